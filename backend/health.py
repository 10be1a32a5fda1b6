"""Liveness check for load balancers and `make run`."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend.database.core import Database, get_database

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={503: {"description": "The database cannot be reached."}})
def healthz(database: Annotated[Database, Depends(get_database)]) -> JSONResponse:
    """Answer ok when the case database answers a query."""
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        logger.exception("Health check failed: the case database does not answer")
        return JSONResponse({"status": "unavailable"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    return JSONResponse({"status": "ok"})
