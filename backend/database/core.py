"""Create engines and sessions; make SQLite safe to share with Rasa's tracker store."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000


def create_db_engine(url: str, *, read_only: bool = False) -> Engine:
    """Return an engine for `url`; for SQLite, create the file's folder and enable WAL and a busy timeout.

    Args:
        url: SQLAlchemy database URL.
        read_only: for SQLite, open connections with ``PRAGMA query_only`` and leave the journal mode alone
            (used for a tracker store that belongs to Rasa).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or parsed.query.get("mode") == "memory"
    if not in_memory and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    _configure_sqlite(engine, wal=not in_memory and not read_only, read_only=read_only)
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool, read_only: bool) -> None:
    """Install the connection hooks SQLite needs for concurrent writers and savepoints."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself: pysqlite's own transaction handling breaks SAVEPOINT.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # Rasa's tracker store (another process) writes the same file: wait for its locks, don't fail.
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
            if read_only:
                cursor.execute("PRAGMA query_only = ON")
            else:
                cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


class Database:
    """Own the case database's engine and session factory, and the engine of Rasa's tracker store."""

    def __init__(self, url: str, tracker_url: str | None = None) -> None:
        self.engine = create_db_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        if tracker_url is None or tracker_url == url:
            self.tracker_engine = self.engine
        else:
            self.tracker_engine = create_db_engine(tracker_url, read_only=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self.tracker_engine is not self.engine:
            self.tracker_engine.dispose()


def get_database(request: Request) -> Database:
    """Return the app's `Database` (a FastAPI dependency)."""
    database: Database = request.app.state.database
    return database


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session for one request and close it afterwards (a FastAPI dependency)."""
    with get_database(request).sessionmaker() as session:
        yield session
