"""Issue 18, items 8-10: nothing a resident was promised is lost.

8: an outbox notice reaches the conversation as Rasa names it, and is marked told only when the channel took it.
9: web chat and REST keep what comes outside a turn until the widget or client fetches it; "Here" is offered only
   where it can reach the resident.
10: only a validation refusal (422) ends a submission (then staff get it); everything else is tried again later,
    one refused entry never blocks the others, and the assistant's answers fit inside the backend's limits.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from bot_testing import FakeBackend, make_tracker
from channel_testing import ScriptedRasa, serve
from rasa_sdk.executor import CollectingDispatcher

from actions import backend_client, outbox
from actions.catalog import Catalog
from actions.forms import ValidateReportForm
from actions.interruptions import ActionTellDelivered
from actions.questions import ask_contact_method
from actions.report import ActionSubmitCase, build_case
from channels.limits import RateLimiter
from channels.rest import ResidentRestInput, WebChatInput
from channels.state import ChannelState
from channels.turn import NotDelivered, PushOutput, Turns

SMS_SENDER = "sms:+14165550123"


class FakeRasa:
    """Rasa's trigger_intent as the outbox meets it: records the raw path; answers as a channel would."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers  # sender id (as Rasa reads it from the path) -> "pushed", "collected" or a status
        self.calls: list[dict[str, Any]] = []
        self.url = ""

    async def _trigger(self, request: web.Request) -> web.Response:
        raw = request.raw_path.split("?")[0]
        sender = raw[len("/conversations/") : -len("/trigger_intent")]  # Rasa does not percent-decode it
        self.calls.append({"sender": sender, "body": await request.json(), "token": request.query.get("token")})
        answer = self.answers.get(sender, "collected")
        if answer == "pushed":
            return web.json_response({"tracker": {}})
        if answer == "collected":  # an unknown conversation: Rasa hands the messages back, nobody got them
            return web.json_response({"tracker": {}, "messages": [{"text": "Good news"}]})
        return web.json_response({"message": "ConversationError"}, status=answer)

    async def __aenter__(self) -> FakeRasa:
        app = web.Application()
        app.router.add_post("/conversations/{tail:.*}", self._trigger)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._runner.cleanup()


def _delivered(box: outbox.Outbox, key: str, sender: str, channel: str, reference: str) -> None:
    box.put(
        {"kind": "service_request", "sender_id": sender, "channel": channel, "description": "x"}, idempotency_key=key
    )
    box.mark_delivered(key, reference)


# Item 8 ----------------------------------------------------------------------------------------------------------


def test_the_notice_goes_to_the_conversation_as_rasa_names_it_with_the_reference(backend_env):
    box = outbox.Outbox(backend_env)
    _delivered(box, "k1", SMS_SENDER, "sms", "S-ABCDE2X")

    async def scenario():
        async with FakeRasa({SMS_SENDER: "pushed"}) as rasa:
            told = await outbox.tell_residents(box, rasa.url, "t+ken")
            return rasa, told

    rasa, told = asyncio.run(scenario())
    assert told == 1
    [call] = rasa.calls
    assert call["sender"] == SMS_SENDER  # not "sms%3A%2B14165550123", an empty conversation
    assert call["token"] == "t+ken"
    assert call["body"] == {"name": "EXTERNAL_case_delivered", "entities": {"delivered_reference": "S-ABCDE2X"}}
    assert box.counts()["untold"] == 0


def test_an_entry_is_told_only_when_the_channel_took_the_notice(backend_env):
    box = outbox.Outbox(backend_env)
    _delivered(box, "failed", "sms:+14165550001", "sms", "S-ABCDE2X")  # Twilio down: Rasa answers 500
    _delivered(box, "nobody", "telegram:42", "telegram", "S-ABCDE3X")  # Rasa handed the messages back
    _delivered(box, "pushed", "telegram:43", "telegram", "S-ABCDE4X")
    _delivered(box, "cmdline", "someone", "cmdline", "S-ABCDE5X")  # no channel can reach it: the status answer

    async def scenario():
        async with FakeRasa({"sms:+14165550001": 500, "telegram:43": "pushed"}) as rasa:
            first = await outbox.tell_residents(box, rasa.url, "t")
            again = await outbox.tell_residents(box, rasa.url, "t")  # the failed ones pause; nothing is sent
            return rasa, first, again

    rasa, first, again = asyncio.run(scenario())
    assert (first, again) == (1, 0)
    assert [c["sender"] for c in rasa.calls] == ["sms:+14165550001", "telegram:42", "telegram:43"]
    assert sorted(e.idempotency_key for e in box.untold()) == ["cmdline", "failed", "nobody"]
    assert [e.reference for e in box.for_sender("someone")] == ["S-ABCDE5X"]


def test_the_telling_action_needs_no_outbox_file(backend_env):
    """The action server Rasa calls may be on another machine than the outbox file: the reference comes along."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        intent="EXTERNAL_case_delivered",
        sender_id=SMS_SENDER,
        channel="sms",
        entities=[{"entity": "delivered_reference", "value": "S-ABCDE2X"}],
    )
    ActionTellDelivered().run(dispatcher, tracker, {})
    assert [(m["response"], m["case_reference"]) for m in dispatcher.messages] == [
        ("utter_case_delivered", "S-ABCDE2X")
    ]


class _Channel:
    def __init__(self, sent: int) -> None:
        self.sent = sent

    @classmethod
    def name(cls) -> str:
        return "sms"

    async def push(self, recipient_id: str, messages: list[dict[str, Any]]) -> int:
        return self.sent


def test_a_push_that_sent_nothing_fails_rasas_call():
    asyncio.run(PushOutput(_Channel(1)).send_response(SMS_SENDER, {"text": "Good news"}))
    with pytest.raises(NotDelivered):
        asyncio.run(PushOutput(_Channel(0)).send_response(SMS_SENDER, {"text": "Good news"}))


# Item 9 ----------------------------------------------------------------------------------------------------------


def _web(tmp_path, cls=WebChatInput):
    return cls(Turns(cls.name(), ChannelState(tmp_path / "channels.db"), RateLimiter(100), options_by_number=False))


@pytest.mark.parametrize("cls", [WebChatInput, ResidentRestInput])
def test_what_comes_outside_a_turn_waits_for_the_widget_and_is_handed_over_once(tmp_path, cls):
    channel = _web(tmp_path, cls)

    async def scenario():
        output = channel.get_output_channel()
        assert output is not None and output.name() == cls.name()
        await output.send_response("web-abc", {"text": "Good news: your reference number is S-ABCDE2X."})
        await output.send_response("web-abc", {"text": "About your report S-ABCDE2X: fixed today."})
        await output.send_response("web-other", {"text": "Someone else's."})
        async with serve(channel, ScriptedRasa()) as url, aiohttp.ClientSession() as session:

            async def pending(sender):
                async with session.post(f"{url}/pending", json={"sender": sender}) as response:
                    return response.status, await response.json()

            first, second = await pending("web-abc"), await pending("web-abc")
            bad = await pending("sms:+14165550123")
            async with session.post(f"{url}/webhook", json={"sender": "web-other", "message": "hello"}) as response:
                turn = await response.json()
        return first, second, bad, turn

    first, second, bad, turn = asyncio.run(scenario())
    assert first == (
        200,
        [
            {"recipient_id": "web-abc", "text": "Good news: your reference number is S-ABCDE2X."},
            {"recipient_id": "web-abc", "text": "About your report S-ABCDE2X: fixed today."},
        ],
    )
    assert second == (200, [])
    assert bad[0] == 400
    # The replies to the resident's next message start with what waited for them.
    assert turn[0]["text"] == "Someone else's." and len(turn) >= 2


def test_the_mailbox_survives_a_restart(tmp_path):
    channel = _web(tmp_path)
    asyncio.run(channel.get_output_channel().send_response("web-abc", {"text": "Kept."}))
    reopened = ChannelState(tmp_path / "channels.db")
    assert asyncio.run(reopened.take_kept("web-abc")) == [{"recipient_id": "web-abc", "text": "Kept."}]


@pytest.mark.parametrize(
    "channel, offered", [("web", True), ("rest", True), ("sms", True), ("telegram", True), ("cmdline", False)]
)
def test_here_is_offered_only_where_it_can_reach_the_resident(channel, offered):
    dispatcher = CollectingDispatcher()
    asyncio.run(ask_contact_method(dispatcher, make_tracker(channel=channel, slots={"notice_given": True})))
    names = [m["response"] for m in dispatcher.messages]
    assert ("utter_request_contact_method" in names) is offered
    assert ("utter_request_contact_method_no_chat" in names) is not offered


def test_here_chosen_where_nothing_can_reach_is_asked_again():
    form = ValidateReportForm()
    tracker = make_tracker(channel="cmdline", text="here", slots={"requested_slot": "contact_method"})
    dispatcher = CollectingDispatcher()
    result = form.validate_contact_method("here", dispatcher, tracker, {})
    assert result.get("contact_method") is None
    assert [m["response"] for m in dispatcher.messages] == ["utter_chat_cannot_reply"]


# Item 10 ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403, 404, 409, 413, 429, 500, 502, 503])
def test_every_answer_but_a_validation_refusal_is_tried_again_later(monkeypatch, backend_env, status):
    async def scenario():
        async with FakeBackend(status=status) as backend:
            monkeypatch.setenv("INTAKE_BACKEND_URL", backend.url)
            dispatcher = CollectingDispatcher()
            await ActionSubmitCase().run(dispatcher, make_tracker(slots=REQUEST), {})
            return backend, dispatcher

    backend, dispatcher = asyncio.run(scenario())
    assert [m["response"] for m in dispatcher.messages] == ["utter_case_queued"]
    assert outbox.Outbox(backend_env).counts() == {"waiting": 1, "untold": 0, "refused": 0}
    assert backend.dead_letters == {}


def test_a_validation_refusal_is_permanent_and_names_no_values():
    async def scenario():
        async with FakeBackend(status=422) as backend:
            settings = backend_client.BackendSettings(base_url=backend.url, token="t")
            with pytest.raises(backend_client.CaseRefused) as refused:
                await backend_client.create_case(
                    {"details": {"secret": "my words"}}, idempotency_key="k", settings=settings
                )
            return backend, refused.value

    backend, refused = asyncio.run(scenario())
    assert len(backend.requests) == 1  # not repeated
    assert "my words" not in json.dumps(refused.problems)


def test_a_refused_entry_never_blocks_the_ones_behind_it_and_waits_before_its_next_try(monkeypatch, backend_env):
    box = outbox.Outbox(backend_env)
    for key in ("a-too-large", "b-fine", "c-invalid", "d-fine"):
        box.put({"kind": "complaint", "sender_id": key, "channel": "rest", "description": key}, idempotency_key=key)
        time.sleep(0.01)  # kept in this order

    async def scenario():
        async with FakeBackend() as backend:
            backend.statuses = [413, 201, 422, 201]
            monkeypatch.setenv("INTAKE_BACKEND_URL", backend.url)
            delivered = await outbox.deliver(box)
            handed = await outbox.hand_refused_to_staff(box)
            again = await outbox.deliver(box)  # the 413 entry pauses: not sent again at once
            return backend, delivered, handed, again

    backend, delivered, handed, again = asyncio.run(scenario())
    assert (delivered, handed, again) == (2, 1, 0)
    assert len(backend.requests) == 4
    assert list(backend.dead_letters) == ["c-invalid"]
    assert [e.idempotency_key for e in box.waiting()] == ["a-too-large"]
    assert box.waiting(due_only=True) == []
    assert outbox.pause_after(1) == 5 and outbox.pause_after(30) == outbox.MAX_PAUSE_SECONDS


def test_an_outcome_of_two_thousand_emoji_still_fits_the_backends_limit():
    slots = {
        **REQUEST,
        "kind": "complaint",
        "outcome": "\U0001f621" * 2000,
        "when": "\U0001f621" * 500,
        "consent": True,
        "contact_method": "email",
        "contact_email": "a@example.com",
    }
    case = build_case(make_tracker(slots=slots), _catalog())
    encoded = json.dumps(case["details"], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert len(encoded) <= 8 * 1024
    assert case["details"]["outcome_wanted"].startswith("\U0001f621" * 100)
    assert case["details"]["outcome_wanted"].endswith("...")
    assert case["details"]["contact"] == {"method": "email", "consent": True, "email": "a@example.com"}


def _catalog() -> Catalog:
    from bot_testing import catalog_json

    return Catalog.from_json(catalog_json())


REQUEST = {
    "kind": "service_request",
    "report_id": "r1",
    "description": "Streetlight out on Pape Ave",
    "location": "300 Pape Ave",
}
