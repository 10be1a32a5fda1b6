"""Rasa's SQL tracker store, made to ride out a database restart without losing a turn or logging residents' words.

Rasa 3.6's `SQLTrackerStore` falls short in three ways when its database goes away for a moment:
- its pooled connections die with a restarted server, so the next turn fails;
- its errors quote the failing statement's parameters: the sender id (an `sms:` one is a phone number) and the
  message itself;
- Rasa wraps every tracker store in a `FailSafeTrackerStore` which, on any error, answers from an empty conversation
  kept only in memory: the resident gets an answer, and the turn is never stored.

This store checks a pooled connection before it uses it, never puts parameters into errors, and when the database
cannot be reached it waits for it (pausing only this turn) for up to `INTAKE_TRACKER_RETRY_SECONDS` (default 30,
under Rasa's 60-second conversation lock) before giving up. A restart or a fail-over of PostgreSQL then delays turns
instead of losing them. A retried save cannot store a turn twice: Rasa counts the stored events before adding more.

Use it in the endpoints file in place of `type: SQL`, with the same settings:
`tracker_store: {type: stores.tracker_store.PatientSQLTrackerStore, dialect: postgresql, url: ..., db: ...}`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, Awaitable, Callable, Iterable, Optional, Text, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import exc

logger = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_RETRY_SECONDS = 30.0
MAX_PAUSE_SECONDS = 2.0


def is_unreachable(error: BaseException) -> bool:
    """Say whether a database error is worth waiting out: a dropped connection, or what the DB-API calls an
    operational error (the server went away, is starting or shutting down, the file is locked), not a bad query."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (exc.OperationalError, exc.InterfaceError))


class PatientSQLTrackerStore(SQLTrackerStore):
    """An SQL tracker store that waits for its database instead of failing, and never logs parameters."""

    def __init__(self, *args: Any, retry_seconds: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, hide_parameters=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        setting = os.environ.get("INTAKE_TRACKER_RETRY_SECONDS", "").strip()
        self.retry_seconds = retry_seconds if retry_seconds is not None else float(setting or DEFAULT_RETRY_SECONDS)

    async def _patiently(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + self.retry_seconds
        pause = 0.1
        while True:
            try:
                return await call()
            except exc.SQLAlchemyError as error:
                if not is_unreachable(error) or time.monotonic() + pause > deadline:
                    raise
                # The cause's class only: the message of some drivers repeats the statement.
                logger.warning("the tracker store could not %s (%s); trying again", what, type(error).__name__)
            await asyncio.sleep(pause)
            pause = min(MAX_PAUSE_SECONDS, pause * 2)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """Return the conversation's current session, waiting for the database when it is away."""
        return await self._patiently("read a conversation", lambda: super(PatientSQLTrackerStore, self).retrieve(
            sender_id))

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        """Return the whole conversation, waiting for the database when it is away."""
        return await self._patiently(
            "read a conversation", lambda: super(PatientSQLTrackerStore, self).retrieve_full_tracker(conversation_id)
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the conversation's new events, waiting for the database when it is away."""
        await self._patiently("store a turn", lambda: super(PatientSQLTrackerStore, self).save(tracker))

    async def keys(self) -> Iterable[Text]:
        """Return every conversation's id, waiting for the database when it is away."""
        return await self._patiently("list conversations", lambda: super(PatientSQLTrackerStore, self).keys())
