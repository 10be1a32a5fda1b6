"""Create engines and sessions; make SQLite safe to share with Rasa's tracker store."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700


def create_db_engine(url: str, *, read_only: bool = False) -> Engine:
    """Return an engine for `url`; for SQLite, create the file owner-only and enable WAL and a busy timeout.

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
        _prepare_private_file(Path(database), tighten=not read_only)
    engine = create_engine(url)
    _configure_sqlite(engine, wal=not in_memory and not read_only, read_only=read_only)
    return engine


def _prepare_private_file(path: Path, *, tighten: bool) -> None:
    """Create the SQLite file owner-only (0600) in an owner-only folder (0700) before SQLite opens it.

    The cases hold residents' words and contact details. SQLite gives its -wal and -shm files the mode of the
    database file, so they are private too. A folder that exists already is left as it is (other components keep
    their files in ``var/``); with `tighten`, an existing database file and its companions lose any group and
    other permissions (a database made before this was readable by every local user).
    """
    try:
        path.parent.mkdir(parents=True)
        # The umask filters mkdir's and open's modes: set them outright.
        os.chmod(path.parent, PRIVATE_FOLDER_MODE)
    except FileExistsError:
        pass
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
        os.chmod(path, PRIVATE_FILE_MODE)
        logger.info("Created the database file %s, readable by its owner only", path)
        return
    except FileExistsError:
        pass  # made earlier, or just now by another process (Rasa's tracker store or another worker)
    if not tighten:
        return
    for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(companion.stat().st_mode)
            if mode & ~PRIVATE_FILE_MODE:
                os.chmod(companion, mode & PRIVATE_FILE_MODE)
                logger.info("Made %s readable by its owner only", companion)
        except FileNotFoundError:
            continue
        except PermissionError:
            logger.warning("Cannot change the mode of %s (another user owns it)", companion)


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
