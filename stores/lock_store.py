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
import sqlite3
from pathlib import Path

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from stores.sqlite import SharedFile

DEFAULT_PATH = Path("var") / "locks.db"
_SCHEMA = "CREATE TABLE IF NOT EXISTS locks (conversation_id TEXT PRIMARY KEY, lock TEXT NOT NULL);"


class SQLiteLockStore(LockStore):
    """Rasa's ticket locks in an SQLite file, changed atomically, for several workers on one machine."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, db: str | None = None) -> None:
        configured = db or (endpoint_config.kwargs.get("db") if endpoint_config else None)
        self.file = SharedFile(Path(configured) if configured else DEFAULT_PATH, flush="OFF", schema=_SCHEMA)

    @property
    def db(self) -> sqlite3.Connection:
        return self.file.db

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """Return the conversation's lock, or None if nobody holds or waits for it."""
        row = self.db.execute("SELECT lock FROM locks WHERE conversation_id = ?", (conversation_id,)).fetchone()
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    def save_lock(self, lock: TicketLock) -> None:
        """Store the lock's tickets."""
        self.db.execute("INSERT OR REPLACE INTO locks VALUES (?, ?)", (lock.conversation_id, lock.dumps()))

    def delete_lock(self, conversation_id: str) -> None:
        """Forget the conversation's lock."""
        self.db.execute("DELETE FROM locks WHERE conversation_id = ?", (conversation_id,))

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Give the next ticket for the conversation, in one transaction."""
        try:
            with self.file.transaction():
                lock = self.get_or_create_lock(conversation_id)
                ticket = lock.issue_ticket(lock_lifetime)
                self.save_lock(lock)
        except sqlite3.Error as error:
            raise LockError(f"Error while acquiring lock: {type(error).__name__}") from error
        return ticket

    def update_lock(self, conversation_id: str) -> None:
        """Drop the conversation's expired tickets, in one transaction."""
        with self.file.transaction():
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give up the ticket, and the whole lock if nobody else waits, in one transaction."""
        with self.file.transaction():
            lock = self.get_lock(conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self.save_lock(lock)
            else:
                self.delete_lock(conversation_id)
