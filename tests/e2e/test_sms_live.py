"""Text messages through the real running stack: signed like Twilio's, answered through the real twilio client."""

from __future__ import annotations

import itertools

import pytest
from channel_live import FORGED_STAFF_REPLY, FORGED_WORDS, converse, get_case
from live import http, rasa_events, taken_as_commands
from stand_ins import signed_twilio_post, twilio_webhook_params

from channels import replies
from channels.segments import encoding, segment_count

CITY = "+14165550311"
_numbers = (f"+1416555{n:04d}" for n in itertools.count(1000))


class Phone:
    """A resident's phone texting the city's number through the Twilio stand-in."""

    def __init__(self, stack, twilio) -> None:
        self.url = f"{stack.rasa_url}/webhooks/sms/webhook"
        self.twilio = twilio
        self.number = next(_numbers)

    def text(self, body: str, topic: str = "") -> list:
        before = len(self.twilio.sent_to(self.number))
        params = twilio_webhook_params(account_sid=self.twilio.account_sid, sender=self.number, to=CITY, body=body)
        status, answer = signed_twilio_post(self.url, params, self.twilio.auth_token)
        assert status == 200, answer
        return self.twilio.sent_to(self.number)[before:]


@pytest.fixture
def phone(stack, stand_ins):
    return Phone(stack, stand_ins.twilio)


def test_a_full_conversation_by_text_message_becomes_a_case_recorded_as_sms(stack, phone):
    first = "There is a deep pothole in the right lane that almost broke my tire"
    reference, transcript = converse(phone.text, first, {"location": "45 Elm Street"})
    case = get_case(stack, reference)
    assert case["channel"] == "sms"
    assert case["sender_id"] == f"sms:{phone.number}"
    assert case["location"] == "45 Elm Street"
    sent = [message for _, replies_ in transcript for message in replies_]
    assert sent and all(encoding(message) == "gsm7" for message in sent), sent
    assert all(segment_count(message) <= 3 for message in sent), sent
    resident_turns = [t["text"] for t in case["transcript"] if t["role"] == "resident"]
    assert resident_turns[0] == first


@pytest.mark.parametrize("forgery", ["unsigned", "signed with another token", "tampered"])
def test_a_request_not_signed_by_twilio_is_refused_and_answers_nothing(stack, phone, forgery):
    params = twilio_webhook_params(
        account_sid=phone.twilio.account_sid, sender=phone.number, to=CITY, body="pothole on Elm St"
    )
    token = "0" * 32 if forgery == "signed with another token" else phone.twilio.auth_token
    signature = "" if forgery == "unsigned" else None
    if forgery == "tampered":
        from twilio.request_validator import RequestValidator

        signature = RequestValidator(token).compute_signature(phone.url, {**params, "Body": "hello"})
    status, _ = signed_twilio_post(phone.url, params, token, signature=signature)
    assert status == 403
    assert phone.twilio.sent_to(phone.number) == []


def test_a_text_written_as_a_staff_reply_stays_the_residents_words(stack, phone):
    sent = phone.text(FORGED_STAFF_REPLY)
    assert sent and not any(FORGED_WORDS in message for message in sent), sent
    assert taken_as_commands(rasa_events(stack, f"sms:{phone.number}")) == []


def test_a_staff_reply_through_rasas_api_still_reaches_the_phone(stack, phone):
    assert phone.text("hello")
    before = len(phone.twilio.sent_to(phone.number))
    token = stack.environment()["INTAKE_RASA_TOKEN"]
    # What the backend sends (backend/staff/replies.py): an external event through Rasa's API, with its token.
    status, _ = http(
        "POST",
        f"{stack.rasa_url}/conversations/sms:{phone.number}/trigger_intent?output_channel=latest&token={token}",
        {"name": "EXTERNAL_staff_reply", "entities": {"staff_reply": "About your report: it is fixed."}},
    )
    assert status == 200
    assert phone.twilio.wait_for_messages(phone.number, before + 1)[before:] == ["About your report: it is fixed."]


def test_after_stop_the_bot_sends_nothing_until_start(phone):
    assert phone.text("There is a broken streetlight on my corner")
    assert phone.text("STOP") == [replies.SMS_OPTED_OUT]
    assert phone.text("It has been out for a week") == []  # the assistant answers, but nothing is sent
    assert phone.text("HELP") == []
    assert phone.text("START") == [replies.SMS_OPTED_IN]
    assert phone.text("HELP") == [replies.SMS_HELP]


def test_cancel_report_cancels_the_report_and_keeps_the_texts_coming(phone):
    phone.text("There is a broken streetlight on my corner")
    answer = phone.text("cancel report")
    assert answer and answer != [replies.SMS_OPTED_OUT]
    assert phone.text("hello")  # still subscribed
