"""Transcripts read from a real Rasa-shaped `events` table."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from backend_testing import ACTIONS, STAFF, case_body
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from backend.transcripts import service as transcripts

# Rasa 3.6's SQLTrackerStore table, as Rasa creates it.
CREATE_EVENTS = """
CREATE TABLE events (
    id INTEGER NOT NULL PRIMARY KEY,
    sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT,
    intent_name VARCHAR(255),
    action_name VARCHAR(255),
    data TEXT
)
"""


class Conversation:
    """Write events the way Rasa's SQL tracker store does."""

    def __init__(self, engine: Engine, sender_id: str) -> None:
        self.engine = engine
        self.sender_id = sender_id

    def _add(
        self,
        type_name: str,
        timestamp: float,
        data: dict[str, Any],
        intent: str | None = None,
        action: str | None = None,
    ) -> None:
        event = {"event": type_name, "timestamp": timestamp, **data}
        with self.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                    "VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data)"
                ),
                {
                    "sender_id": self.sender_id,
                    "type_name": type_name,
                    "timestamp": timestamp,
                    "intent_name": intent,
                    "action_name": action,
                    "data": json.dumps(event),
                },
            )

    def session_start(self, timestamp: float) -> None:
        self._add(
            "action",
            timestamp,
            {
                "name": "action_session_start",
                "policy": None,
                "confidence": 1.0,
                "action_text": None,
                "hide_rule_turn": False,
            },
            action="action_session_start",
        )
        self._add("session_started", timestamp, {})
        self._add(
            "action",
            timestamp,
            {"name": "action_listen", "policy": None, "confidence": None, "action_text": None, "hide_rule_turn": False},
            action="action_listen",
        )

    def user(self, timestamp: float, text_: str, intent: str, confidence: float) -> None:
        parse_data = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "text": text_,
            "message_id": "5f1c",
            "metadata": {},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        }
        self._add(
            "user",
            timestamp,
            {"text": text_, "parse_data": parse_data, "input_channel": "rest", "message_id": "5f1c", "metadata": {}},
            intent=intent,
        )
        self._add("user_featurization", timestamp, {"use_text_for_featurization": False})

    def bot(self, timestamp: float, text_: str) -> None:
        self._add(
            "action",
            timestamp,
            {
                "name": "utter_x",
                "policy": "RulePolicy",
                "confidence": 1.0,
                "action_text": None,
                "hide_rule_turn": False,
            },
            action="utter_x",
        )
        self._add(
            "bot",
            timestamp,
            {
                "text": text_,
                "data": {
                    "elements": None,
                    "quick_replies": None,
                    "buttons": None,
                    "attachment": None,
                    "image": None,
                    "custom": None,
                },
                "metadata": {"utter_action": "utter_x"},
            },
        )

    def slot(self, timestamp: float, name: str, value: Any) -> None:
        self._add("slot", timestamp, {"name": name, "value": value})


def create_events_table(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(CREATE_EVENTS))


def created_at(case: dict[str, Any]) -> float:
    return datetime.fromisoformat(case["created_at"].replace("Z", "+00:00")).timestamp()


def test_transcript_is_the_session_around_the_case(client: TestClient, engine: Engine) -> None:
    case = client.post("/api/cases", json=case_body(sender_id="conv-1"), headers=ACTIONS).json()
    t = created_at(case)
    create_events_table(engine)
    talk = Conversation(engine, "conv-1")
    other = Conversation(engine, "conv-2")
    # An earlier session, which must not show.
    talk.session_start(t - 7200)
    talk.user(t - 7190, "old message", "greet", 0.99)
    talk.bot(t - 7189, "old reply")
    # The session in which the case was made.
    talk.session_start(t - 60)
    talk.user(t - 50, "the garbage wasnt picked up AGAIN", "complaint", 0.93)
    other.user(t - 45, "someone else's message", "greet", 0.5)
    talk.slot(t - 49, "kind", "complaint")
    talk.bot(t - 49, "Sorry about that. Where was it?")
    talk.user(t - 20, "12 Elm St", "inform", 0.71)
    talk.bot(t + 0.5, f"Thanks. Your reference is {case['reference']}.")
    # A later session, which must not show either.
    talk.session_start(t + 3600)
    talk.user(t + 3610, "new day", "greet", 0.98)

    response = client.get(f"/api/cases/{case['reference']}", headers=STAFF)
    assert response.status_code == 200
    transcript = response.json()["transcript"]
    assert [(turn["role"], turn["text"]) for turn in transcript] == [
        ("resident", "the garbage wasnt picked up AGAIN"),
        ("bot", "Sorry about that. Where was it?"),
        ("resident", "12 Elm St"),
        ("bot", f"Thanks. Your reference is {case['reference']}."),
    ]
    first = transcript[0]
    assert first["intent"] == "complaint"
    assert first["confidence"] == 0.93
    assert first["timestamp"] == datetime.fromtimestamp(t - 50, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    assert transcript[1]["intent"] is None and transcript[1]["confidence"] is None


def test_a_conversation_without_session_events_is_read_whole(engine: Engine, migrated: str) -> None:
    create_events_table(engine)
    talk = Conversation(engine, "conv-3")
    talk.user(100.0, "hello", "greet", 0.9)
    talk.bot(101.0, "Hi!")
    talk.session_start(500.0)
    talk.user(501.0, "later", "greet", 0.9)
    turns = transcripts.read(engine=engine, sender_id="conv-3", at=datetime.fromtimestamp(200.0, tz=timezone.utc))
    assert [turn.text for turn in turns] == ["hello", "Hi!"]


def test_an_unreadable_event_is_skipped(engine: Engine, migrated: str) -> None:
    create_events_table(engine)
    talk = Conversation(engine, "conv-4")
    talk.user(100.0, "first", "greet", 0.9)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('conv-4', 'user', 101.0, '{oops')")
        )
    talk.user(102.0, "third", "greet", 0.9)
    turns = transcripts.read(engine=engine, sender_id="conv-4", at=datetime.fromtimestamp(150.0, tz=timezone.utc))
    assert [turn.text for turn in turns] == ["first", "third"]


def test_no_events_table_means_an_empty_transcript(client: TestClient) -> None:
    reference = client.post("/api/cases", json=case_body(), headers=ACTIONS).json()["reference"]
    response = client.get(f"/api/cases/{reference}", headers=STAFF)
    assert response.status_code == 200
    assert response.json()["transcript"] == []


def test_a_separate_tracker_database_is_read(tmp_path: Path, make_app: Callable[..., FastAPI], settings: Any) -> None:
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    tracker = create_engine(tracker_url)
    try:
        create_events_table(tracker)
        app = make_app(tracker_database_url=tracker_url)
        assert app.state.database.tracker_engine is not app.state.database.engine
        client = TestClient(app)
        case = client.post("/api/cases", json=case_body(sender_id="conv-5"), headers=ACTIONS).json()
        talk = Conversation(tracker, "conv-5")
        talk.session_start(created_at(case) - 10)
        talk.user(created_at(case) - 5, "a tree fell on my car", "service_request", 0.88)
        transcript = client.get(f"/api/cases/{case['reference']}", headers=STAFF).json()["transcript"]
        assert [(turn["role"], turn["text"], turn["intent"]) for turn in transcript] == [
            ("resident", "a tree fell on my car", "service_request")
        ]
    finally:
        tracker.dispose()


def test_the_tracker_connection_is_read_only(tmp_path: Path, make_app: Callable[..., FastAPI]) -> None:
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    app = make_app(tracker_database_url=tracker_url)
    with app.state.database.tracker_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA query_only").scalar() == 1
