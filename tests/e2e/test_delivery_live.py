"""Issue 18, items 8-10 on the real stack, one resident per channel: the backend is stopped while the report is
sent, started again, and the reference reaches the resident once, whatever the channel, with faults on the way."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from urllib.parse import quote

import pytest
from channel_live import answer_to, last_question
from live import Resident, http, staff_headers, start_service, stop_service, wait_until
from stand_ins import signed_twilio_post, telegram_update, twilio_webhook_params

from actions.outbox import Outbox

CITY = "+14165550311"
_numbers = (f"+1416555{n:04d}" for n in itertools.count(7000))
_chats = itertools.count(770001)
FIRST = "the streetlight in front of my house is out"


def report_until_confirmation(say: Callable[[str], list[str]]) -> None:
    """Answer every question until the read-back asks to send it."""
    text, seen = FIRST, []
    for _ in range(20):
        replies = say(text)
        seen.append((text, replies))
        if "shall i send it" in " ".join(replies).lower():
            return
        topic, text = answer_to(last_question(replies), {"location": "300 Pape Ave"})
    raise AssertionError(f"the assistant never asked to send the report: {seen}")


def submit_while_the_backend_is_down(
    stack, say: Callable[[str], list[str]], before_restart: Callable[[], None] = lambda: None
) -> list[str]:
    report_until_confirmation(say)
    stop_service(stack, "backend")
    try:
        replies = say("yes")
        before_restart()
    finally:
        start_service(stack, "backend")
    assert "saved and nothing is lost" in " ".join(replies).lower(), replies
    return replies


def told_once(messages: list[str], reference: str) -> bool:
    return sum(reference in m for m in messages) == 1


def outbox_of(stack) -> Outbox:
    return Outbox(stack.var_dir / "outbox.db")


def the_case(stack, sender: str) -> str:
    def cases() -> list:
        status, page = http(
            "GET", f"{stack.backend_url}/api/cases?sender_id={quote(sender, safe='')}", headers=staff_headers(stack)
        )
        assert status == 200, page
        return page["items"]

    [case] = wait_until(cases, timeout=120)
    return case["reference"]


def test_sms_the_reference_arrives_by_text_once_even_when_twilio_failed_first(stack, stand_ins):
    twilio, number = stand_ins.twilio, next(_numbers)
    url = f"{stack.rasa_url}/webhooks/sms/webhook"

    def say(body: str) -> list[str]:
        before = len(twilio.sent_to(number))
        params = twilio_webhook_params(account_sid=twilio.account_sid, sender=number, to=CITY, body=body)
        status, answer = signed_twilio_post(url, params, twilio.auth_token)
        assert status == 200, answer
        return twilio.sent_to(number)[before:]

    # The first notice finds Twilio down (4 tries each): it must not count as told.
    submit_while_the_backend_is_down(stack, say, lambda: twilio.fail_next(500, times=8))
    reference = the_case(stack, f"sms:{number}")
    wait_until(lambda: told_once(twilio.sent_to(number), reference), timeout=120)
    wait_until(lambda: all(e.sender_id != f"sms:{number}" for e in outbox_of(stack).untold()), timeout=30)
    assert told_once(twilio.sent_to(number), reference)


def test_telegram_the_reference_arrives_in_the_chat_once_even_when_telegram_failed_first(stack, stand_ins):
    api, chat = stand_ins.telegram, next(_chats)
    assert api.wait_until(lambda: bool(api.webhook.get("url")))

    def say(text: str) -> list[str]:
        before = len(api.sent_to(chat))
        status, answer = api.deliver(telegram_update(chat, text))
        assert status == 200, answer
        return [m["text"] for m in api.sent_to(chat)[before:]]

    # The first notice finds Telegram failing (4 tries each): it must not count as told.
    submit_while_the_backend_is_down(stack, say, lambda: api.fail_next(500, "Internal Server Error", times=8))
    reference = the_case(stack, f"telegram:{chat}")
    wait_until(lambda: told_once([m["text"] for m in api.sent_to(chat)], reference), timeout=120)
    wait_until(lambda: all(e.sender_id != f"telegram:{chat}" for e in outbox_of(stack).untold()), timeout=30)


@pytest.mark.parametrize("channel", ["web", "rest"])
def test_web_and_rest_the_reference_waits_until_the_chat_fetches_it(stack, channel):
    resident = Resident(stack, f"{channel}-delivery-{next(_chats)}")
    resident.url = f"{stack.rasa_url}/webhooks/{channel}/webhook"
    pending_url = f"{stack.rasa_url}/webhooks/{channel}/pending"
    submit_while_the_backend_is_down(stack, resident.say)
    reference = the_case(stack, resident.sender)

    def fetched() -> list[str]:
        status, messages = http("POST", pending_url, {"sender": resident.sender})
        assert status == 200, messages
        return [m.get("text", "") for m in messages]

    first = wait_until(fetched, timeout=120)
    assert told_once(first, reference), first
    assert fetched() == []  # handed over once
    # A staff reply goes the same way: kept, then shown with the resident's next message.
    token = stack.environment()["INTAKE_RASA_TOKEN"]
    status, answer = http(
        "POST",
        f"{stack.rasa_url}/conversations/{resident.sender}/trigger_intent?output_channel=latest&token={token}",
        {"name": "EXTERNAL_staff_reply", "entities": {"staff_reply": f"About your report {reference}: fixed today."}},
    )
    assert status == 200 and "messages" not in answer, answer
    replies = resident.say("thanks")
    assert replies[0] == f"About your report {reference}: fixed today.", replies
