"""Web API of the division catalog (public: it holds no personal data)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from backend.catalog.schemas import Catalog

router = APIRouter(prefix="/api/catalog", tags=["catalog"])


def get_catalog(request: Request) -> Catalog:
    """Return the app's catalog (a FastAPI dependency)."""
    catalog: Catalog = request.app.state.catalog
    return catalog


@router.get("", response_model=Catalog)
def read_catalog(request: Request) -> Catalog:
    """Return the divisions, their time limits and their service categories."""
    return get_catalog(request)
