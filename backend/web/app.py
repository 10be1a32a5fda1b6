"""Plug the staff workspace into the backend app: service levels, routers, error pages and security headers."""

from __future__ import annotations

from fastapi import FastAPI

from backend.cases.deadlines import ServiceLevels
from backend.cases.service import SERVICE_LEVELS_KEY
from backend.catalog.schemas import Catalog
from backend.config import Settings
from backend.database.core import Database
from backend.web import account_views, analytics_views, audit_views, case_list_views, case_views, dead_letter_views
from backend.web.core import PageError, SignInNeeded, StaffHeadersMiddleware, error_page, sign_in_redirect


def install(app: FastAPI, *, settings: Settings, catalog: Catalog, database: Database) -> None:
    """Add the staff pages to `app`.

    Raises:
        ServiceLevelsError: the service levels file is missing or invalid.
    """
    levels = ServiceLevels.load(settings.service_levels_path, catalog)
    app.state.service_levels = levels
    # Every session carries the service levels, so that each way of creating a case sets the same deadlines.
    database.sessionmaker.configure(info={SERVICE_LEVELS_KEY: levels})
    app.add_middleware(StaffHeadersMiddleware)
    app.add_exception_handler(SignInNeeded, sign_in_redirect)
    app.add_exception_handler(PageError, error_page)
    app.include_router(account_views.router)
    app.include_router(audit_views.router)
    app.include_router(case_list_views.router)
    app.include_router(case_views.router)
    app.include_router(analytics_views.router)
    app.include_router(dead_letter_views.router)
