"""Run the Alembic migrations in `backend/migrations/` programmatically."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from backend.database.core import create_db_engine

logger = logging.getLogger(__name__)

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def alembic_config(url: str | None = None, *, engine: Engine | None = None) -> Config:
    """Return the Alembic configuration, pointed at `url` or an existing `engine` when given."""
    config = Config(str(ALEMBIC_INI))
    if url is not None:
        config.attributes["database_url"] = url
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision`."""
    engine = create_db_engine(url)
    try:
        logger.info("Migrating the case database to %s", revision)
        command.upgrade(alembic_config(engine=engine), revision)
    finally:
        engine.dispose()


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Ignore tables the models don't declare, such as Rasa's `events` table in the same database."""
    if type_ == "table" and reflected and compare_to is None:
        return False
    return True
