"""A conversation lock that the Rasa workers of one machine share, in a small SQLite file.

Rasa answers one conversation's messages one at a time: each message takes a ticket (Rasa's `TicketLock`) and waits
for its number to be served. Rasa's default lock store keeps the tickets in one process's memory, so Rasa runs a
single worker unless the lock store is shared. This store keeps them in SQLite, as Rasa's Redis store keeps them
in Redis, and makes every change to a conversation's tickets one transaction (`BEGIN IMMEDIATE`), so two workers
can never be given the same ticket.

Tickets only matter while the server runs (they expire after Rasa's lock lifetime, 60 s), so changes are not
flushed to disk one by one; `scripts/stack.py` removes the file before Rasa starts.

Use it in the endpoints file: `lock_store: {type: stores.lock_store.SQLiteLockStore, db: var/locks.db}`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

DEFAULT_PATH = Path("var") / "locks.db"
BUSY_TIMEOUT_SECONDS = 10


class SQLiteLockStore(LockStore):
    """Rasa's ticket locks in an SQLite file, changed atomically, for several workers on one machine."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, db: Optional[Text] = None) -> None:
        configured = db or (endpoint_config.kwargs.get("db") if endpoint_config else None)
        self.path = Path(configured) if configured else DEFAULT_PATH
        self._db: Optional[sqlite3.Connection] = None
        self._pid = -1

    @property
    def db(self) -> sqlite3.Connection:
        # One connection per process: a connection must not be used on both sides of a fork.
        if self._db is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("CREATE TABLE IF NOT EXISTS locks (conversation_id TEXT PRIMARY KEY, lock TEXT NOT NULL)")
            self._pid = os.getpid()
        return self._db

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")  # waits for any other worker's change to finish
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        """Return the conversation's lock, or None if nobody holds or waits for it."""
        row = self.db.execute("SELECT lock FROM locks WHERE conversation_id = ?", (conversation_id,)).fetchone()
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    def save_lock(self, lock: TicketLock) -> None:
        """Store the lock's tickets."""
        self.db.execute("INSERT OR REPLACE INTO locks VALUES (?, ?)", (lock.conversation_id, lock.dumps()))

    def delete_lock(self, conversation_id: Text) -> None:
        """Forget the conversation's lock."""
        self.db.execute("DELETE FROM locks WHERE conversation_id = ?", (conversation_id,))

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Give the next ticket for the conversation, in one transaction."""
        try:
            with self._transaction():
                lock = self.get_or_create_lock(conversation_id)
                ticket = lock.issue_ticket(lock_lifetime)
                self.save_lock(lock)
        except sqlite3.Error as error:
            raise LockError(f"Error while acquiring lock: {type(error).__name__}") from error
        return ticket

    def update_lock(self, conversation_id: Text) -> None:
        """Drop the conversation's expired tickets, in one transaction."""
        with self._transaction():
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Give up the ticket, and the whole lock if nobody else waits, in one transaction."""
        with self._transaction():
            lock = self.get_lock(conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self.save_lock(lock)
            else:
                self.delete_lock(conversation_id)

