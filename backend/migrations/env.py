"""Alembic environment: migrate the case database named by the backend's settings."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Connection, Engine

from backend.config import Settings
from backend.database.core import create_db_engine
from backend.database.migrate import include_object
from backend.models import metadata

config = context.config


def _database_url() -> str:
    """Return the URL given by the caller, else the one from the environment."""
    url = config.attributes.get("database_url")
    return str(url) if url else Settings.from_env().database_url


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=metadata,
        include_object=include_object,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead (a no-op elsewhere).
        render_as_batch=True,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Write the SQL to standard output instead of running it."""
    _configure(url=_database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a live connection."""
    engine: Engine | None = config.attributes.get("engine")
    if engine is not None:
        with engine.connect() as connection:
            _run_on(connection)
        return
    # Run from the Alembic command line: let alembic.ini set up logging, then use our engine hooks (WAL etc.).
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    engine = create_db_engine(_database_url())
    try:
        with engine.connect() as connection:
            _run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
