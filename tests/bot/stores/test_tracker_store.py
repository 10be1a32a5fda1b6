"""The tracker store (stores/tracker_store.py) waits for its database instead of failing, never writes a resident's
sender id or words into its errors or logs, and hands back the conversations it keeps in memory only when they are
exactly what the database holds. Here the database is a real SQLite file that
another connection locks for a while, as a restarting server refuses connections for a moment."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import exc

from stores.tracker_store import PatientSQLTrackerStore

SENDER = "sms:+16475550177"
WORDS = "the quillfeather hydrant on my street is leaking"
DOMAIN = Domain.from_dict({"slots": {"location": {"type": "text", "mappings": [{"type": "from_text"}]}}})


def patient_store(path: Path, retry_seconds: float) -> PatientSQLTrackerStore:
    # timeout 0: SQLite's own wait for a lock is off, so that the store's waiting is what is tested.
    return PatientSQLTrackerStore(
        domain=DOMAIN, dialect="sqlite", db=str(path), query={"timeout": "0"}, retry_seconds=retry_seconds
    )


def a_turn() -> DialogueStateTracker:
    tracker = DialogueStateTracker(SENDER, slots=[])
    tracker.update(UserUttered(WORDS))
    return tracker


@contextmanager
def locked(path: Path, seconds: float) -> Iterator[None]:
    """Hold an exclusive lock on the database for `seconds` (nobody else may read or write it meanwhile)."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(seconds, lambda: holder.execute("ROLLBACK"))
    release.start()
    try:
        yield
    finally:
        release.join()
        holder.close()


def test_a_turn_stored_while_the_database_is_away_waits_and_is_stored_once(tmp_path, caplog):
    path = tmp_path / "tracker.db"
    store = patient_store(path, retry_seconds=10)
    asyncio.run(store.retrieve("web:someone-else"))  # the store is up and connected before the database goes
    caplog.set_level(logging.DEBUG, logger="stores")
    with locked(path, 1.0):
        asyncio.run(store.save(a_turn()))
    waited = [r.getMessage() for r in caplog.records if r.name == "stores.tracker_store"]
    assert any("could not store a turn" in m for m in waited)
    assert not any(SENDER in m or "quillfeather" in m for m in caplog.messages)
    again = asyncio.run(patient_store(path, retry_seconds=1).retrieve(SENDER))
    assert again is not None and [e.text for e in again.events if isinstance(e, UserUttered)] == [WORDS]


def test_a_conversation_is_read_while_another_worker_writes(tmp_path, caplog):
    path = tmp_path / "tracker.db"
    store = patient_store(path, retry_seconds=10)
    asyncio.run(store.save(a_turn()))
    reader = patient_store(path, retry_seconds=10)
    caplog.set_level(logging.DEBUG, logger="stores")
    with locked(path, 1.0):
        started = time.monotonic()
        again = asyncio.run(reader.retrieve(SENDER))  # write-ahead logging: readers do not wait for a writer
        assert time.monotonic() - started < 0.5
    assert again is not None and [e.text for e in again.events if isinstance(e, UserUttered)] == [WORDS]
    assert not [r for r in caplog.records if r.name == "stores.tracker_store"]


def test_when_the_database_stays_away_the_error_quotes_no_sender_and_no_words(tmp_path, caplog):
    path = tmp_path / "tracker.db"
    store = patient_store(path, retry_seconds=0.3)
    asyncio.run(store.retrieve("web:someone-else"))
    with locked(path, 2.0), pytest.raises(exc.OperationalError) as raised:
        asyncio.run(store.save(a_turn()))
    assert "hidden" in str(raised.value)  # SQLAlchemy's note that the parameters were left out
    assert SENDER not in str(raised.value) and "quillfeather" not in str(raised.value)
    assert not any(SENDER in m or "quillfeather" in m for m in caplog.messages)
    assert asyncio.run(store.retrieve(SENDER)) is None  # nothing half-stored


# What the store keeps in memory between turns: never a stale or half-finished conversation.


@contextmanager
def statements(store: PatientSQLTrackerStore) -> Iterator[list]:
    """The SQL statements the store runs meanwhile, lower-cased."""
    executed: list = []

    def record(_connection, _cursor, statement, *_args) -> None:
        executed.append(statement.lower())

    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield executed
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", record)


def stock_read(path: Path) -> list:
    """The conversation's current session as Rasa's own SQL store reads it from the file."""
    stock = SQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(path))
    tracker = asyncio.run(stock.retrieve(SENDER))
    return [event.as_dict() for event in tracker.events] if tracker else []


def said(tracker: DialogueStateTracker) -> list:
    return [event.text for event in tracker.events if isinstance(event, UserUttered)]


def stored_words(path: Path) -> list:
    """What the resident said, as Rasa's own SQL store reads it back."""
    return [event["text"] for event in stock_read(path) if event["event"] == "user"]


def first_turn(store: PatientSQLTrackerStore, words: str, sender: str = SENDER) -> DialogueStateTracker:
    """Start a conversation, as Rasa does, with one message, and store it."""
    tracker = asyncio.run(store.get_or_create_tracker(sender, append_action_listen=False))  # as the processor asks
    tracker.update(UserUttered(words))
    asyncio.run(store.save(tracker))
    return tracker


def test_a_stored_conversation_is_handed_back_from_memory_and_stored_as_rasa_stores_it(tmp_path):
    path = tmp_path / "tracker.db"
    store = patient_store(path, retry_seconds=1)
    tracker = asyncio.run(store.get_or_create_tracker(SENDER))
    for words in ("pothole on Elm", "45 Elm Street", "yes"):
        tracker.update(UserUttered(words))
        tracker.update(ActionExecuted("action_listen"))
        asyncio.run(store.save(tracker))
        again = asyncio.run(store.retrieve(SENDER))
        assert again is tracker  # no re-reading and replaying of every event
        assert stock_read(path) == [event.as_dict() for event in tracker.events]
    assert said(tracker) == ["pothole on Elm", "45 Elm Street", "yes"]


def test_what_another_server_stored_meanwhile_is_added_to_the_kept_conversation(tmp_path):
    path = tmp_path / "tracker.db"
    first, second = patient_store(path, retry_seconds=1), patient_store(path, retry_seconds=1)
    tracker = first_turn(first, "pothole on Elm")

    elsewhere = asyncio.run(second.retrieve(SENDER))  # the other worker takes a turn
    elsewhere.update(UserUttered("45 Elm Street"))
    elsewhere.update(SlotSet("location", "45 Elm Street"))
    asyncio.run(second.save(elsewhere))

    with statements(first) as executed:
        back = asyncio.run(first.retrieve(SENDER))
    assert back is tracker and said(back) == ["pothole on Elm", "45 Elm Street"]
    assert [event.as_dict() for event in back.events] == stock_read(path)  # what Rasa would read and replay
    assert back.get_slot("location") == "45 Elm Street"
    assert len(executed) == 1 and "events.id >" in executed[0]  # only the newer events were read
    back.update(UserUttered("yes"))
    asyncio.run(first.save(back))
    assert stored_words(path) == ["pothole on Elm", "45 Elm Street", "yes"]
    assert asyncio.run(second.retrieve(SENDER)) is elsewhere and said(elsewhere) == said(back)


def test_a_new_session_started_by_another_server_is_read_as_rasa_reads_it(tmp_path):
    path = tmp_path / "tracker.db"
    first, second = patient_store(path, retry_seconds=1), patient_store(path, retry_seconds=1)
    tracker = first_turn(first, "pothole on Elm")

    elsewhere = asyncio.run(second.retrieve(SENDER))
    for event in (ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), UserUttered("hello again")):
        elsewhere.update(event)
    asyncio.run(second.save(elsewhere))

    back = asyncio.run(first.retrieve(SENDER))
    assert back is not tracker and said(back) == ["hello again"]
    assert [event.as_dict() for event in back.events] == stock_read(path)


def test_a_new_conversation_is_stored_without_counting_its_events(tmp_path):
    store = patient_store(tmp_path / "tracker.db", retry_seconds=1)
    with statements(store) as executed:
        first_turn(store, "pothole on Elm")
    assert not any("count(" in statement for statement in executed)
    assert stored_words(tmp_path / "tracker.db") == ["pothole on Elm"]


def test_a_turn_that_fails_before_it_is_saved_leaves_nothing_behind(tmp_path):
    path = tmp_path / "tracker.db"
    store = patient_store(path, retry_seconds=1)
    first_turn(store, "pothole on Elm")

    failing = asyncio.run(store.retrieve(SENDER))
    failing.update(UserUttered("a turn that raised before it was stored"))

    fresh = asyncio.run(store.retrieve(SENDER))
    assert fresh is not failing and said(fresh) == ["pothole on Elm"]
    fresh.update(UserUttered("yes"))
    asyncio.run(store.save(fresh))
    asyncio.run(store.save(failing))  # a late save of the failed turn's tracker is counted as Rasa counts
    assert stored_words(path) == ["pothole on Elm", "yes"]
    assert said(asyncio.run(store.retrieve(SENDER))) == ["pothole on Elm", "yes"]  # not the failed turn's words


def test_a_new_session_is_read_back_as_rasa_reads_it(tmp_path):
    path = tmp_path / "tracker.db"
    store = patient_store(path, retry_seconds=1)
    tracker = first_turn(store, "pothole on Elm")
    tracker = asyncio.run(store.retrieve(SENDER))
    tracker.update(ActionExecuted(ACTION_SESSION_START_NAME))
    tracker.update(SessionStarted())
    tracker.update(UserUttered("hello again"))
    asyncio.run(store.save(tracker))

    back = asyncio.run(store.retrieve(SENDER))
    assert back is not tracker and said(back) == ["hello again"]
    assert [event.as_dict() for event in back.events] == stock_read(path)


def test_memory_holds_at_most_the_configured_number_of_conversations(tmp_path):
    store = PatientSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"), cache_size=1)
    trackers = {}
    for sender in ("web:one", "web:two"):
        trackers[sender] = first_turn(store, f"from {sender}", sender)
    assert asyncio.run(store.retrieve("web:two")) is trackers["web:two"]
    first = asyncio.run(store.retrieve("web:one"))
    assert first is not trackers["web:one"] and said(first) == ["from web:one"]


@pytest.mark.parametrize("setting, level", [("", 1), ("full", 2), ("NORMAL", 1)])
def test_the_sqlite_file_is_synced_as_configured(tmp_path, monkeypatch, setting, level):
    monkeypatch.setenv("INTAKE_TRACKER_SQLITE_SYNC", setting)
    store = patient_store(tmp_path / "tracker.db", retry_seconds=1)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == level  # 1 NORMAL, 2 FULL
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_wrong_sync_setting_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("INTAKE_TRACKER_SQLITE_SYNC", "sometimes")
    with pytest.raises(ValueError, match="FULL or NORMAL"):
        patient_store(tmp_path / "tracker.db", retry_seconds=1)
