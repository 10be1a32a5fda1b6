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

It also keeps the conversations it has just stored in memory (`INTAKE_TRACKER_CACHE_SIZE`, default 1,000). Rasa's
store reads a conversation's every event and replays them at each turn, and counts them again before each save.
This store reads only the events stored after the last one it knows (with one indexed query; usually there are
none) and adds them to the tracker it kept: each Rasa worker takes about half of a conversation's turns, so the
other half were stored by the other worker. Saving adds the new events without counting the stored ones again.
When the newer events start a new session, or the tracker is not one this store handed out, it reads and counts
as Rasa does (so does a retried save). A tracker is handed out at most once: a turn that fails before it is saved
leaves nothing behind in memory, and a tracker saved the counting way is read again at the next turn.

On SQLite it keeps its connection open (SQLAlchemy 1.4 would open the file again for every read and write) and
uses write-ahead logging, so that a conversation is read while another worker writes; each turn is synced to disk
only with INTAKE_TRACKER_SQLITE_SYNC=FULL.

Use it in the endpoints file in place of `type: SQL`, with the same settings:
`tracker_store: {type: stores.tracker_store.PatientSQLTrackerStore, dialect: postgresql, url: ..., db: ...}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import exc

logger = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_RETRY_SECONDS = 30.0
MAX_PAUSE_SECONDS = 2.0
DEFAULT_CACHE_SIZE = 1000


def is_unreachable(error: BaseException) -> bool:
    """Say whether a database error is worth waiting out: a dropped connection, or what the DB-API calls an
    operational error (the server went away, is starting or shutting down, the file is locked), not a bad query."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (exc.OperationalError, exc.InterfaceError))


@dataclass
class Known:
    """A tracker whose events up to `stored` are in the database, the last of them with the id `last_id`; no tracker
    when the database holds nothing of the conversation."""

    tracker: DialogueStateTracker | None
    stored: int
    last_id: int


class Recent:
    """At most `size` entries by conversation id; the least recently used one goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, Known] = OrderedDict()

    def put(self, sender_id: str, known: Known) -> None:
        self._entries[sender_id] = known
        self._entries.move_to_end(sender_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def pop(self, sender_id: str) -> Known | None:
        return self._entries.pop(sender_id, None)


def _setting(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def _engine_settings(url: sa.engine.URL) -> dict[str, Any]:
    if url.get_backend_name() != "sqlite":
        # A pooled connection to a server that restarted is dead: check it before use.
        return {"pool_pre_ping": True, **create_engine_kwargs(url)}
    # SQLAlchemy 1.4 opens a new connection to a SQLite file for every session (NullPool): keep one open instead.
    # Write-ahead logging lets the backend read cases while a turn is written.
    return {
        "poolclass": sa.pool.QueuePool,
        "pool_size": 1,
        "max_overflow": 4,
        "connect_args": {"check_same_thread": False},
    }


def _write_ahead_log(flush: str) -> Callable[[Any, Any], None]:
    """Set up each new SQLite connection: write-ahead logging, synced to disk as `flush` says.

    NORMAL: a turn is in the log file when the resident is answered, so it survives a crash of Rasa; it reaches the
    disk at the next checkpoint, so a power cut may lose the last moments. FULL syncs every turn (about 0.8 ms of
    the worker's time)."""

    def set_up(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute(f"PRAGMA synchronous={flush}")

    return set_up


def sqlite_flush() -> str:
    """Return INTAKE_TRACKER_SQLITE_SYNC (FULL or NORMAL, default NORMAL): how the SQLite tracker file is synced."""
    value = os.environ.get("INTAKE_TRACKER_SQLITE_SYNC", "").strip().upper() or "NORMAL"
    if value not in ("FULL", "NORMAL"):
        raise ValueError("INTAKE_TRACKER_SQLITE_SYNC must be FULL or NORMAL")
    return value


class PatientSQLTrackerStore(SQLTrackerStore):
    """An SQL tracker store that waits for its database instead of failing, and never logs parameters."""

    def __init__(
        self, *args: Any, retry_seconds: float | None = None, cache_size: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, hide_parameters=True, **_engine_settings(url))
        if url.get_backend_name() == "sqlite":
            sa.event.listen(self.engine, "connect", _write_ahead_log(sqlite_flush()))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        if retry_seconds is None:
            retry_seconds = _setting("INTAKE_TRACKER_RETRY_SECONDS", DEFAULT_RETRY_SECONDS)
        self.retry_seconds = retry_seconds
        size = cache_size if cache_size is not None else int(_setting("INTAKE_TRACKER_CACHE_SIZE", DEFAULT_CACHE_SIZE))
        self._kept = Recent(size)  # stored trackers, ready to hand out
        self._prepare_statements()
        self._lent = Recent(size)  # trackers handed out to a turn and not yet saved

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

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Return the conversation's current session, waiting for the database when it is away."""
        return await self._patiently("read a conversation", lambda: self._current_session(sender_id))

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """Return the whole conversation, waiting for the database when it is away."""
        return await self._patiently(
            "read a conversation", lambda: super(PatientSQLTrackerStore, self).retrieve_full_tracker(conversation_id)
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the conversation's new events, waiting for the database when it is away."""
        await self.stream_events(tracker)
        await self._patiently("store a turn", lambda: self._store_new_events(tracker))

    async def keys(self) -> Iterable[str]:
        """Return every conversation's id, waiting for the database when it is away."""
        return await self._patiently("list conversations", lambda: super(PatientSQLTrackerStore, self).keys())

    def _prepare_statements(self) -> None:
        # Built once: SQLAlchemy would otherwise build and look up each statement again at every turn.
        events = self.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        self._last_id_sql = sa.select(sa.func.max(events.c.id)).where(events.c.sender_id == sender)
        self._newer_sql = (
            sa.select(events.c.id, events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.sender_id == sender, events.c.id > sa.bindparam("after"))
            .order_by(events.c.id)
        )
        self._insert_sql = events.insert()

    def _last_event_id(self, connection: sa.engine.Connection, sender_id: str) -> int | None:
        return connection.execute(self._last_id_sql, {"sender_id": sender_id}).scalar()

    async def _current_session(self, sender_id: str) -> DialogueStateTracker | None:
        kept = self._kept.pop(sender_id)
        if kept is not None:
            with self.engine.connect() as connection:
                rows = connection.execute(self._newer_sql, {"sender_id": sender_id, "after": kept.last_id}).all()
            caught_up = self._catch_up(kept, rows)
            if caught_up is not None:
                self._lent.put(sender_id, caught_up)
                return caught_up.tracker
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        if not rows or not self.domain:
            self._lent.put(sender_id, Known(None, 0, 0))  # nothing stored yet: a first save need not count
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
        self._lent.put(sender_id, Known(tracker, len(rows), rows[-1].id))
        return tracker

    def _catch_up(self, kept: Known, newer: list) -> Known | None:
        """Add to a kept tracker the events another server stored after it, when they continue its session (the
        tracker is then what Rasa would read and replay); None when they start a new session."""
        if not newer:
            return kept
        if any(row.type_name == SessionStarted.type_name for row in newer):
            return None
        session_start = max(
            (event.timestamp for event in kept.tracker.events if isinstance(event, SessionStarted)), default=None
        )
        if session_start is not None and any(row.timestamp is None or row.timestamp < session_start for row in newer):
            return None
        for event in deserialise_events([json.loads(row.data) for row in newer]):
            kept.tracker.update(event)
        return Known(kept.tracker, kept.stored + len(newer), newer[-1].id)

    def _known_count(self, tracker: DialogueStateTracker) -> int | None:
        """How many of the tracker's events are stored, when this store handed it out or has just stored it.

        The turn holds the conversation's lock, which every Rasa server shares: nobody else has written to the
        conversation since."""
        sender_id = tracker.sender_id
        lent, kept = self._lent.pop(sender_id), self._kept.pop(sender_id)
        if lent is not None and lent.tracker in (tracker, None):
            return lent.stored
        if kept is not None and kept.tracker is tracker:  # saved again in the same turn
            return kept.stored
        return None

    async def _store_new_events(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        stored = self._known_count(tracker)
        known = stored is not None
        if stored is None:  # Rasa's way: count what the current session already holds
            with self.session_scope() as session:
                stored = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
        events = list(tracker.events)
        rows = [self._row(sender_id, event) for event in events[stored:]]
        with self.engine.begin() as connection:
            if rows:
                connection.execute(self._insert_sql, rows)
            last_id = self._last_event_id(connection, sender_id)
        # A tracker that was counted may hold other events than those stored (a late save of a failed turn): it
        # is read again next time.
        if known and self._is_current_session(events):
            self._kept.put(sender_id, Known(tracker, len(events), last_id or 0))  # 0: nothing stored yet

    @staticmethod
    def _is_current_session(events: list) -> bool:
        # Say whether these events are what `retrieve` reads back: those stamped at or after the latest session
        # start (Rasa's query). A tracker that also holds an earlier session is read again next time.
        starts = [event.timestamp for event in events if isinstance(event, SessionStarted)]
        return not starts or all(event.timestamp is not None and event.timestamp >= max(starts) for event in events)

    @staticmethod
    def _row(sender_id: str, event: Any) -> dict:
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
