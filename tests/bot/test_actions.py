"""The custom actions, run with real trackers and dispatchers against a local backend stand-in."""

from __future__ import annotations

import asyncio

from bot_testing import FakeBackend, make_tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import backend_client
from actions.forms import ValidateComplaintForm
from actions.report import ActionStartReport, ActionSubmitCase
from actions.report_text import is_descriptive

REPORT = {"kind": "service_request", "description": "My garbage was not picked up", "location": "12 Elm St"}


def _settings(url: str) -> backend_client.BackendSettings:
    return backend_client.BackendSettings(base_url=url, token="t0ken", timeout_seconds=2, attempts=2)


def _submit(tracker, backend: FakeBackend, monkeypatch, dispatcher: CollectingDispatcher):
    monkeypatch.setattr(backend_client.BackendSettings, "from_env", classmethod(lambda cls: _settings(backend.url)))
    return ActionSubmitCase().run(dispatcher, tracker, {})


def test_start_report_keeps_the_first_message_and_its_place():
    tracker = make_tracker(
        text="the garbage wasnt picked up AGAIN on my street",
        intent="complaint",
        entities=[{"entity": "location", "value": "Elm St"}],
    )
    events = asyncio.run(ActionStartReport().run(CollectingDispatcher(), tracker, {}))
    final = {e["name"]: e["value"] for e in events}
    assert final["kind"] == "complaint"
    assert final["description"] == "the garbage wasnt picked up AGAIN on my street"
    assert final["location"] == "Elm St"


def test_start_report_asks_for_the_story_when_the_message_only_names_the_kind():
    events = asyncio.run(ActionStartReport().run(CollectingDispatcher(), make_tracker(text="I want to make a complaint"), {}))
    assert SlotSet("kind", "complaint") in events
    assert not any(e["name"] == "description" and e["value"] for e in events)


def test_is_descriptive():
    assert is_descriptive("pothole on queen st")
    assert not is_descriptive("i have a complaint")
    assert not is_descriptive("compliment please")


def test_submit_case_sends_the_report_and_tells_the_reference(monkeypatch):
    async def scenario():
        async with FakeBackend() as backend:
            dispatcher = CollectingDispatcher()
            events = await _submit(make_tracker(slots=REPORT, channel="rest"), backend, monkeypatch, dispatcher)
            return backend, dispatcher, events

    backend, dispatcher, events = asyncio.run(scenario())
    [request] = backend.requests
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert request["body"] == {**REPORT, "channel": "rest", "sender_id": "resident-1"}
    reference = backend.references[request["headers"]["Idempotency-Key"]]
    assert dispatcher.messages[0]["response"] == "utter_case_created"
    assert dispatcher.messages[0]["case_reference"] == reference
    assert SlotSet("case_reference", reference) in events
    assert SlotSet("description", None) in events


def test_submitting_twice_for_the_same_turn_uses_the_same_idempotency_key(monkeypatch):
    async def scenario():
        async with FakeBackend() as backend:
            for _ in range(2):
                await _submit(make_tracker(slots=REPORT), backend, monkeypatch, CollectingDispatcher())
            await _submit(make_tracker(slots=REPORT, timestamp=1732450999.0), backend, monkeypatch, CollectingDispatcher())
            return backend

    backend = asyncio.run(scenario())
    keys = [r["headers"]["Idempotency-Key"] for r in backend.requests]
    assert keys[0] == keys[1] != keys[2]


def test_submit_case_says_so_plainly_when_the_backend_refuses(monkeypatch):
    async def scenario():
        async with FakeBackend(status=503) as backend:
            dispatcher = CollectingDispatcher()
            events = await _submit(make_tracker(slots=REPORT), backend, monkeypatch, dispatcher)
            return backend, dispatcher, events

    backend, dispatcher, events = asyncio.run(scenario())
    assert len(backend.requests) == 2  # a server error is retried once
    assert [m["response"] for m in dispatcher.messages] == ["utter_backend_unavailable"]
    assert events == []


def test_submit_case_when_the_backend_is_not_running(monkeypatch):
    monkeypatch.setattr(
        backend_client.BackendSettings, "from_env", classmethod(lambda cls: _settings("http://127.0.0.1:9"))
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionSubmitCase().run(dispatcher, make_tracker(slots=REPORT), {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_backend_unavailable"]
    assert events == []


def test_validation_rejects_empty_and_overlong_descriptions():
    form = ValidateComplaintForm()
    tracker = make_tracker()
    dispatcher = CollectingDispatcher()
    assert form.validate_description("  ?! ", dispatcher, tracker, {}) == {"description": None}
    assert form.validate_description("x" * 4001, dispatcher, tracker, {}) == {"description": None}
    assert form.validate_description(" Bin not emptied ", dispatcher, tracker, {}) == {"description": "Bin not emptied"}
    assert [m["response"] for m in dispatcher.messages] == ["utter_too_short", "utter_too_long"]


def test_validation_asks_for_a_shorter_place_rather_than_cutting_it():
    dispatcher = CollectingDispatcher()
    form = ValidateComplaintForm()
    assert form.validate_location("Elm " * 200, dispatcher, make_tracker(), {}) == {"location": None}
    assert form.validate_location(" 12 Elm St ", dispatcher, make_tracker(), {}) == {"location": "12 Elm St"}
    assert [m["response"] for m in dispatcher.messages] == ["utter_too_long"]
