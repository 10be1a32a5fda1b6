"""One SQLite connection per process to a small file that several processes (Rasa's workers) share.

Rasa creates its channels and stores before it starts its worker processes, and a SQLite connection must never be
used on both sides of a fork: each process opens its own on first use. Every file is in write-ahead-log mode, so
readers never wait for a writer.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_SECONDS = 10


class SharedFile:
    """A lazily opened, per-process connection to `path`, in autocommit mode unless inside `transaction()`.

    `flush`: "FULL" syncs every commit to disk (what must survive a power cut), "NORMAL" leaves it to the next
    checkpoint (survives a crash of the program), "OFF" for what only matters while the server runs.
    """

    def __init__(self, path: Path, *, flush: str, schema: str = "", mode: int | None = None) -> None:
        assert flush in ("FULL", "NORMAL", "OFF")
        self.path = path
        self.flush = flush
        self.schema = schema
        self.mode = mode
        self.lock = threading.Lock()  # one statement at a time on the connection, whichever thread runs it
        self._db: sqlite3.Connection | None = None
        self._pid = -1

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                str(self.path), isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False
            )
            self._set_up(db)
            if self.mode is not None:
                os.chmod(self.path, self.mode)
            self._db, self._pid = db, os.getpid()
        return self._db

    def _set_up(self, db: sqlite3.Connection) -> None:
        """Put a new connection's file in write-ahead-log mode and create the schema, again while other processes
        set up the same new file.

        SQLite waits out its busy timeout for most locks, but not while another connection switches a new file to
        write-ahead logging: it answers "database is locked" at once. Four processes opening a new file at the same
        moment hit it in 4 to 27 rounds of 100; Rasa's workers open theirs at their first requests."""
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(f"PRAGMA synchronous={self.flush}")
                if self.schema:
                    db.executescript(self.schema)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(0.01)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements as one write transaction; another process's change waits until this one is done."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
