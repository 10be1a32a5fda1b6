"""The production profile's tracker store (stores/tracker_store.py) waits for its database instead of failing, and
never writes a resident's sender id or words into its errors or logs. Here the database is a real SQLite file that
another connection locks for a while, as a restarting server refuses connections for a moment."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import exc

from stores.tracker_store import PatientSQLTrackerStore

SENDER = "sms:+16475550177"
WORDS = "the quillfeather hydrant on my street is leaking"


def patient_store(path: Path, retry_seconds: float) -> PatientSQLTrackerStore:
    # timeout 0: SQLite's own wait for a lock is off, so that the store's waiting is what is tested.
    return PatientSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(path), query={"timeout": "0"},
                                  retry_seconds=retry_seconds)


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
    caplog.set_level(logging.DEBUG, logger="stores")
    with locked(path, 1.0):
        asyncio.run(store.save(a_turn()))
    with locked(path, 1.0):
        again = asyncio.run(store.retrieve(SENDER))
    assert again is not None
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == [WORDS]
    waited = [r.getMessage() for r in caplog.records if r.name == "stores.tracker_store"]
    assert any("could not store a turn" in m for m in waited) and any("could not read" in m for m in waited)
    assert not any(SENDER in m or "quillfeather" in m for m in caplog.messages)


def test_when_the_database_stays_away_the_error_quotes_no_sender_and_no_words(tmp_path, caplog):
    path = tmp_path / "tracker.db"
    store = patient_store(path, retry_seconds=0.3)
    with locked(path, 2.0), pytest.raises(exc.OperationalError) as raised:
        asyncio.run(store.save(a_turn()))
    assert "hidden" in str(raised.value)  # SQLAlchemy's note that the parameters were left out
    assert SENDER not in str(raised.value) and "quillfeather" not in str(raised.value)
    assert not any(SENDER in m or "quillfeather" in m for m in caplog.messages)
    assert asyncio.run(store.retrieve(SENDER)) is None  # nothing half-stored

