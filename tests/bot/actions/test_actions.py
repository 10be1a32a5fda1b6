"""Starting and submitting reports, the outbox, interruptions and status: real trackers and dispatchers against a
local stand-in for the backend."""

from __future__ import annotations

import asyncio
from typing import Any

from bot_testing import FakeBackend, make_tracker
from rasa_sdk.events import ActiveLoop, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import outbox
from actions.interruptions import ActionCancelReport, ActionEmergency, ActionHandleAbuse, ActionTellDelivered
from actions.report import ActionStartReport, ActionSubmitCase
from actions.report_text import is_descriptive
from actions.session import ActionSessionStart
from actions.status import ActionStartStatus, ActionTellStatus

REQUEST = {
    "kind": "service_request",
    "report_id": "r1",
    "description": "My green bin was not picked up",
    "location": "12 Elm St",
    "service_code": "SWMS-MISSED-PICKUP",
    "service_attributes": {"stream": ["green_bin"]},
    "contact_method": "phone",
    "contact_phone": "4165550123",
    "consent": True,
    "confirmed": True,
}


def _values(events) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def _responses(dispatcher: CollectingDispatcher):
    return [m["response"] for m in dispatcher.messages]


def _submit(monkeypatch, slots: dict[str, Any], status: int = 201, time_limits=None, **tracker: Any):
    async def scenario():
        async with FakeBackend(status=status, time_limits=time_limits) as backend:
            monkeypatch.setenv("INTAKE_BACKEND_URL", backend.url)
            dispatcher = CollectingDispatcher()
            events = await ActionSubmitCase().run(dispatcher, make_tracker(slots=slots, **tracker), {})
            return backend, dispatcher, events

    return asyncio.run(scenario())


# Starting a report ---------------------------------------------------------------------------------------------


def test_start_report_keeps_everything_the_first_message_says(backend_env):
    tracker = make_tracker(
        text="the garbage wasnt picked up AGAIN on my street yesterday, call me at 416-555-0123",
        intent="complaint",
        entities=[
            {"entity": "location", "value": "Elm St"},
            {"entity": "date_time", "value": "yesterday"},
            {"entity": "phone", "value": "416-555-0123"},
            {"entity": "person", "value": "Officer Patel"},
        ],
    )
    values = _values(asyncio.run(ActionStartReport().run(CollectingDispatcher(), tracker, {})))
    assert values["kind"] == "complaint"
    assert values["description"].startswith("the garbage wasnt picked up AGAIN")
    assert (values["location"], values["when"], values["contact_phone"]) == ("Elm St", "yesterday", "4165550123")
    assert values["person"] is None  # a name only fills "who" in a compliment
    assert values["report_id"] and values["requested_slot"] is None


def test_start_report_keeps_the_name_in_a_compliment_and_the_earlier_reference():
    tracker = make_tracker(
        text="Officer Patel was so kind, about S-4F7KQ2M",
        intent="compliment",
        entities=[{"entity": "person", "value": "Officer Patel"}],
    )
    values = _values(asyncio.run(ActionStartReport().run(CollectingDispatcher(), tracker, {})))
    assert (values["person"], values["linked_reference"]) == ("Officer Patel", "S-4F7KQ2M")


def test_start_report_asks_for_the_story_when_the_message_only_names_the_kind():
    tracker = make_tracker(text="I want to make a complaint")
    events = asyncio.run(ActionStartReport().run(CollectingDispatcher(), tracker, {}))
    assert SlotSet("kind", "complaint") in events
    assert _values(events)["description"] is None


def test_every_report_gets_its_own_id():
    def start():
        return _values(asyncio.run(ActionStartReport().run(CollectingDispatcher(), make_tracker(text="hi"), {})))

    assert start()["report_id"] != start()["report_id"]


def test_is_descriptive():
    assert is_descriptive("pothole on queen st")
    assert not is_descriptive("i have a complaint")
    assert not is_descriptive("compliment please")


# Submitting ---------------------------------------------------------------------------------------------------


def test_submit_sends_the_case_and_tells_the_reference_and_what_happens_next(monkeypatch, backend_env):
    backend, dispatcher, events = _submit(monkeypatch, REQUEST)
    [request] = backend.requests
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert request["body"] == {
        "kind": "service_request",
        "description": "My green bin was not picked up",
        "location": "12 Elm St",
        "channel": "rest",
        "sender_id": "resident-1",
        "division": "SWMS",
        "service_code": "SWMS-MISSED-PICKUP",
        "details": {
            "service_attributes": {"stream": ["green_bin"]},
            "contact": {"method": "phone", "phone": "4165550123", "consent": True},
        },
        "public_consent": False,
    }
    reference = backend.references[request["headers"]["Idempotency-Key"]]
    assert dispatcher.messages[0] == {
        **dispatcher.messages[0],
        "response": "utter_case_created",
        "case_reference": reference,
    }
    assert dispatcher.messages[1]["response"] == "utter_next_steps_request"
    assert (dispatcher.messages[1]["team"], dispatcher.messages[1]["acknowledge_days"]) == (
        "Solid Waste Management Services",
        5,
    )
    values = _values(events)
    assert values["case_reference"] == reference
    assert values["description"] is None and values["confirmed"] is None and values["report_id"] is None


def test_what_happens_next_uses_the_time_limits_the_backend_gave_the_case(monkeypatch, backend_env):
    # The backend's service levels can give a kind or a division other limits than the catalog's (here 1 and 4).
    _, dispatcher, _ = _submit(monkeypatch, REQUEST, time_limits={"acknowledge_days": 1, "respond_days": 4})
    assert dispatcher.messages[1]["response"] == "utter_next_steps_request"
    assert dispatcher.messages[1]["acknowledge_days"] == 1


def test_a_complaint_carries_its_answers_in_details(monkeypatch, backend_env):
    complaint = {
        "kind": "complaint",
        "report_id": "r2",
        "description": "The officer was rude",
        "location": "City Hall",
        "when": "last Tuesday",
        "division": "MLS",
        "complaint_category": "staff",
        "outcome": "An apology",
        "linked_reference": "C-ABCDEFG",
        "contact_method": "email",
        "contact_email": "jo@example.com",
        "consent": True,
        "confirmed": True,
    }
    backend, dispatcher, _ = _submit(monkeypatch, complaint)
    body = backend.requests[0]["body"]
    assert (body["kind"], body["division"], "service_code" in body) == ("complaint", "MLS", False)
    assert body["details"] == {
        "when": "last Tuesday",
        "complaint_category": "staff",
        "outcome_wanted": "An apology",
        "linked_reference": "C-ABCDEFG",
        "contact": {"method": "email", "email": "jo@example.com", "consent": True},
    }
    assert _responses(dispatcher) == ["utter_case_created", "utter_next_steps_complaint"]
    assert dispatcher.messages[1]["respond_days"] == 10


def test_without_consent_no_contact_detail_is_sent(monkeypatch, backend_env):
    slots = {**REQUEST, "consent": False, "contact_method": "anonymous", "contact_phone": None}
    backend, dispatcher, _ = _submit(monkeypatch, slots)
    assert backend.requests[0]["body"]["details"]["contact"] == {"method": "anonymous", "consent": False}
    assert _responses(dispatcher)[1] == "utter_next_steps_request_anonymous"


def test_a_team_named_outside_the_catalog_is_kept_in_details(monkeypatch, backend_env):
    slots = {
        "kind": "complaint",
        "report_id": "r3",
        "description": "The bus never came",
        "division": "TTC",
        "contact_method": "anonymous",
        "confirmed": True,
    }
    backend, _, _ = _submit(monkeypatch, slots)
    body = backend.requests[0]["body"]
    # No catalog division: 311's triage queue takes it, with the team the resident named.
    assert body["division"] == "TRIAGE" and body["details"]["division_named"] == "TTC"


def test_a_double_yes_or_a_retry_uses_the_same_key_and_a_new_report_another(monkeypatch, backend_env):
    async def scenario():
        async with FakeBackend() as backend:
            monkeypatch.setenv("INTAKE_BACKEND_URL", backend.url)
            for timestamp in (1.0, 2.0):  # the same report confirmed twice, in two turns
                tracker = make_tracker(slots=REQUEST, timestamp=timestamp)
                await ActionSubmitCase().run(CollectingDispatcher(), tracker, {})
            another = make_tracker(slots={**REQUEST, "report_id": "r9"})
            await ActionSubmitCase().run(CollectingDispatcher(), another, {})
            return backend

    backend = asyncio.run(scenario())
    keys = [r["headers"]["Idempotency-Key"] for r in backend.requests]
    assert keys[0] == keys[1] != keys[2]
    assert len(backend.cases) == 2


def test_a_call_back_is_recorded_with_what_was_said_so_far(monkeypatch, backend_env):
    slots = {
        "kind": "service_request",
        "report_id": "r4",
        "description": "Streetlight out",
        "callback_offered": True,
        "callback_wanted": True,
        "contact_phone": "4165550199",
    }
    backend, dispatcher, _ = _submit(monkeypatch, slots)
    body = backend.requests[0]["body"]
    assert body["description"] == "Streetlight out" and body["details"]["callback_requested"] is True
    assert body["details"]["contact"] == {"method": "phone", "phone": "4165550199", "consent": True}
    assert dispatcher.messages == [
        {**dispatcher.messages[0], "response": "utter_callback_created", "phone": "416-555-0199", "days": 5}
    ]


def test_a_call_back_with_no_report_goes_to_311(monkeypatch, backend_env):
    slots = {"report_id": "r5", "callback_offered": True, "callback_wanted": True, "contact_phone": "4165550199"}
    backend, _, _ = _submit(monkeypatch, slots)
    body = backend.requests[0]["body"]
    assert (body["kind"], body["service_code"], body["division"]) == ("service_request", "311-GENERAL", "311")


def test_a_declined_call_back_with_no_report_submits_nothing(monkeypatch, backend_env):
    backend, dispatcher, events = _submit(monkeypatch, {"callback_offered": True, "callback_wanted": False})
    assert backend.requests == [] and dispatcher.messages == []
    assert _values(events)["callback_offered"] is None


# When the backend fails: the outbox -----------------------------------------------------------------------------


def test_a_backend_error_keeps_the_case_in_the_outbox_and_says_so(monkeypatch, backend_env):
    backend, dispatcher, events = _submit(monkeypatch, REQUEST, status=503)
    assert len(backend.requests) == 2  # a server error is retried once with the same key
    assert _responses(dispatcher) == ["utter_case_queued"]
    [waiting] = outbox.Outbox(backend_env).waiting()
    assert waiting.case == backend.requests[0]["body"]
    assert waiting.idempotency_key == backend.requests[0]["headers"]["Idempotency-Key"]
    assert _values(events)["description"] is None


def test_a_backend_that_is_not_running_leaves_the_case_in_the_outbox(backend_env):
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionSubmitCase().run(dispatcher, make_tracker(slots=REQUEST), {}))
    assert _responses(dispatcher) == ["utter_case_queued"]
    assert outbox.Outbox(backend_env).counts() == {"waiting": 1, "untold": 0, "refused": 0}


def test_a_case_refused_as_invalid_is_apologised_for_and_handed_to_staff(monkeypatch, backend_env):
    backend, dispatcher, _ = _submit(monkeypatch, REQUEST, status=422)
    assert len(backend.requests) == 1
    assert _responses(dispatcher) == ["utter_backend_refused"]
    [letter] = backend.dead_letters.values()
    assert letter["case"] == backend.requests[0]["body"]
    assert letter["problems"] == [{"loc": ["body", "details"], "msg": "must be at most 8192 bytes as JSON"}]
    assert outbox.Outbox(backend_env).counts() == {"waiting": 0, "untold": 0, "refused": 0}


def test_the_outbox_survives_a_restart_and_delivers_once_when_the_backend_is_back(monkeypatch, backend_env):
    asyncio.run(ActionSubmitCase().run(CollectingDispatcher(), make_tracker(slots=REQUEST), {}))
    reopened = outbox.Outbox(backend_env)  # as after the action server restarts

    async def scenario():
        async with FakeBackend() as backend:
            monkeypatch.setenv("INTAKE_BACKEND_URL", backend.url)
            first = await outbox.deliver(reopened)
            second = await outbox.deliver(reopened)
            return backend, first, second

    backend, first, second = asyncio.run(scenario())
    assert (first, second, len(backend.cases)) == (1, 0, 1)
    [entry] = reopened.untold()
    assert entry.reference == next(iter(backend.cases))

    dispatcher = CollectingDispatcher()
    ActionTellDelivered().run(dispatcher, make_tracker(), {})
    assert dispatcher.messages[0]["response"] == "utter_case_delivered"
    assert dispatcher.messages[0]["case_reference"] == entry.reference
    # Saying it is not telling it: the entry is told once the resident's channel took it (tell_residents).
    assert reopened.counts() == {"waiting": 0, "untold": 1, "refused": 0}


def test_delivery_waits_while_the_backend_is_still_down(backend_env):
    box = outbox.Outbox(backend_env)
    box.put({"kind": "complaint", "sender_id": "s", "description": "x", "channel": "rest"}, idempotency_key="k1")
    assert asyncio.run(outbox.deliver(box)) == 0
    assert box.counts() == {"waiting": 1, "untold": 0, "refused": 0}


# Interruptions, sessions -----------------------------------------------------------------------------------------


def test_cancel_and_emergency_stop_the_form_and_forget_the_report():
    for action, responses in (
        (ActionCancelReport(), ["utter_cancelled"]),
        (ActionEmergency(), ["utter_emergency", "utter_emergency_after"]),
    ):
        dispatcher = CollectingDispatcher()
        events = action.run(dispatcher, make_tracker(slots=REQUEST, active_loop="report_form"), {})
        assert _responses(dispatcher) == responses
        assert events[0] == ActiveLoop(None)
        assert _values(events)["description"] is None


def test_abuse_gets_one_warning_then_the_end():
    dispatcher = CollectingDispatcher()
    first = ActionHandleAbuse().run(dispatcher, make_tracker(active_loop="report_form"), {})
    assert first == [SlotSet("abuse_warned", True)]
    second = ActionHandleAbuse().run(dispatcher, make_tracker(slots={"abuse_warned": True}), {})
    assert second[0] == ActiveLoop(None)
    assert _responses(dispatcher) == ["utter_abuse", "utter_abuse_end"]


def test_a_session_after_an_unfinished_report_starts_fresh_politely():
    dispatcher = CollectingDispatcher()
    events = ActionSessionStart().run(dispatcher, make_tracker(slots=REQUEST, active_loop="report_form"), {})
    assert _responses(dispatcher) == ["utter_session_expired"]
    assert events[0] == SessionStarted()
    quiet = CollectingDispatcher()
    ActionSessionStart().run(quiet, make_tracker(), {})
    assert quiet.messages == []


# Status ---------------------------------------------------------------------------------------------------------


def test_start_status_takes_the_reference_from_the_message(backend_env):
    tracker = make_tracker(text="what's happening with s-4f7kq2m", intent="check_status")
    assert _values(ActionStartStatus().run(CollectingDispatcher(), tracker, {}))["status_reference"] == "S-4F7KQ2M"


def test_start_status_tells_about_a_case_still_in_the_outbox(backend_env):
    outbox.Outbox(backend_env).put({"kind": "complaint", "sender_id": "resident-1"}, idempotency_key="k")
    dispatcher = CollectingDispatcher()
    values = _values(ActionStartStatus().run(dispatcher, make_tracker(intent="check_status"), {}))
    assert _responses(dispatcher) == ["utter_status_still_waiting"]
    assert values["status_result"] == {"state": "waiting"}


def test_tell_status_in_plain_words():
    for result, response in (
        ({"status": "in_progress", "reference": "S-1"}, "utter_status_in_progress"),
        ({"status": "reopened", "reference": "S-1"}, "utter_status_other"),
        ({"state": "not_found"}, "utter_status_not_found"),
        ({"state": "unavailable"}, "utter_status_unavailable"),
    ):
        dispatcher = CollectingDispatcher()
        ActionTellStatus().run(dispatcher, make_tracker(slots={"status_result": result}), {})
        assert _responses(dispatcher) == [response]
