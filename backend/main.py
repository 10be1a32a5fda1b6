"""Build the FastAPI application: ``uvicorn backend.main:app``."""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from backend import health
from backend.cases import views as cases_views
from backend.catalog import views as catalog_views
from backend.catalog.loader import load_catalog
from backend.config import Settings
from backend.database.core import Database
from backend.dead_letters import views as dead_letter_views
from backend.errors import install_error_handlers
from backend.middleware import BodySizeLimitMiddleware
from backend.open311 import views as open311_views
from backend.ratelimit import RateLimiter
from backend.web.app import install as install_staff

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return a new application for `settings` (default: read from the environment).

    Raises:
        CatalogError: the division catalog is missing or invalid (the message names the file and line).
        ServiceLevelsError: the service levels file is missing or invalid.
    """
    settings = settings or Settings.from_env()
    catalog = load_catalog(settings.catalog_path)
    database = Database(settings.database_url, settings.tracker_database_url)
    for name, token in (("INTAKE_STAFF_TOKEN", settings.staff_token), ("INTAKE_ACTIONS_TOKEN", settings.actions_token)):
        if not token:
            logger.warning("%s is not set: the endpoints that need it answer 503", name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        database.dispose()

    app = FastAPI(title="311 intake backend", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.catalog = catalog
    app.state.database = database
    app.state.open311_read_limiter = RateLimiter(
        per_minute=settings.open311_reads_per_minute, burst=settings.open311_read_burst
    )
    app.add_middleware(BodySizeLimitMiddleware)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(catalog_views.router)
    app.include_router(cases_views.router)
    app.include_router(open311_views.router)
    app.include_router(dead_letter_views.router)
    install_staff(app, settings=settings, catalog=catalog, database=database)

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        """Serve the web page, its chat widget pointed at the Rasa server residents' browsers reach."""
        page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        if settings.rasa_public_url:
            page = page.replace('data-rasa-url=""', f'data-rasa-url="{html.escape(settings.rasa_public_url)}"', 1)
        return HTMLResponse(page)

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    return app


app = create_app()
