"""The logs of a full run hold no resident's phone number, email address or words, and no secret.

Residents talk to the running stack on every channel (web chat, REST, text messages, Telegram) and give a phone
number, an email address and words found nowhere else; some of their requests are refused on the way (unsigned,
without the secret, malformed). Then every log of the stack (backend, action server, Rasa) is read: none of it may
appear there in any usual spelling, nor any token, nor the details the other end-to-end tests gave before.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from channel_live import converse
from live import http
from stand_ins import signed_twilio_post, telegram_update, twilio_webhook_params

CITY = "+14165550311"
PHONE = "647-555-0187"
SMS_NUMBER = "+16475550164"
EMAIL = "quill.feather.resident@example.org"
# Words no response, log message or library would ever write by itself.
MARKERS = ["quillfeather", "marmalade", "zeppelin", "wombat", "tangerine", "harpsichord", "periwinkle"]
# What the other end-to-end tests' residents give (tests/e2e/channel_live.py and the conversation tests).
OTHER_TESTS_DETAILS = {"phone": ["4165550123"], "email": ["resident@example.com"]}


def web_say(stack, channel: str, sender: str):
    def say(text: str, topic: str = "") -> list[str]:
        status, replies = http(
            "POST", f"{stack.rasa_url}/webhooks/{channel}/webhook", {"sender": sender, "message": text}
        )
        assert status == 200, replies
        return [reply.get("text", "") for reply in replies]

    return say


def sms_say(stack, twilio, number: str):
    url = f"{stack.rasa_url}/webhooks/sms/webhook"

    def say(text: str, topic: str = "") -> list[str]:
        before = len(twilio.sent_to(number))
        params = twilio_webhook_params(account_sid=twilio.account_sid, sender=number, to=CITY, body=text)
        status, answer = signed_twilio_post(url, params, twilio.auth_token)
        assert status == 200, answer
        return twilio.sent_to(number)[before:]

    return say


def telegram_say(api, chat_id: int):
    def say(text: str, topic: str = "") -> list[str]:
        before = len(api.sent_to(chat_id))
        status, answer = api.deliver(telegram_update(chat_id, text))
        assert status == 200, answer
        return [message["text"] for message in api.sent_to(chat_id)[before:]]

    return say


def spellings(phone: str) -> list[str]:
    """Return the ten digits of a North American number, which every usual spelling of it contains."""
    digits = re.sub(r"\D", "", phone)
    return [digits[-10:]]


def leaks(log_dir: Path, forbidden: dict[str, list[str]]) -> list[str]:
    """Return '<file>:<line>: <what>' for every forbidden text found in the logs (digits compared as digits)."""
    found = []
    for path in sorted(log_dir.glob("*.log")):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            lowered, digits = line.lower(), re.sub(r"\D", "", line)
            for what, texts in forbidden.items():
                for text in texts:
                    hit = text in digits if what == "phone" else text.lower() in lowered
                    if hit:
                        found.append(f"{path.name}:{number}: {what} {text!r}")
    return found


def test_the_logs_of_a_full_run_hold_no_personal_details_and_no_secrets(stack, stand_ins):
    api, twilio = stand_ins.telegram, stand_ins.twilio
    assert api.wait_until(lambda: bool(api.webhook.get("url"))), "the Telegram channel never registered"
    run = secrets.token_hex(3)

    # Web chat: a complaint, reachable by phone, with the number in the first message too.
    converse(
        web_say(stack, "web", f"logs-web-{run}"),
        f"I want to complain: the quillfeather by-law officer was rude and shouted at my kids. Call me at {PHONE}",
        {
            "location": "12 Marmalade Court",
            "contact_method": "phone",
            "phone": PHONE,
            "outcome": "An apology from the zeppelin depot",
        },
    )
    # REST: a compliment, answered by email.
    converse(
        web_say(stack, "rest", f"logs-rest-{run}"),
        "The wombat team at the library was so kind to my mother",
        {
            "location": "7 Tangerine Road",
            "person": "the harpsichord volunteers",
            "hear_back": "yes",
            "contact_method": "email",
            "email": EMAIL,
            "description": "They carried the periwinkle boxes",
        },
    )
    # Text messages: a report from the resident's own number, and a STOP.
    text = sms_say(stack, twilio, SMS_NUMBER)
    converse(text, "The periwinkle streetlight on Tangerine Road is out again", {"location": "3 Wombat Way"})
    text("STOP")
    text("START")
    # Telegram: a report from a private chat.
    converse(
        telegram_say(api, 880_000 + secrets.randbelow(99_999)),
        "Harpsichord music is blasting from the zeppelin store every night",
        {"location": "9 Marmalade Court"},
    )

    # Refused requests: unsigned, without the secret, malformed. Their log lines must not quote them either.
    params = twilio_webhook_params(
        account_sid=twilio.account_sid, sender=SMS_NUMBER, to=CITY, body="quillfeather forged text"
    )
    assert signed_twilio_post(f"{stack.rasa_url}/webhooks/sms/webhook", params, "0" * 32)[0] == 403
    assert api.deliver(telegram_update(880_001, f"zeppelin {EMAIL}"), secret="wrong")[0] == 403
    assert (
        http("POST", f"{stack.rasa_url}/webhooks/rest/webhook", {"sender": f"sms:{SMS_NUMBER}", "message": EMAIL})[0]
        == 400
    )

    env = stack.environment()
    forbidden = {
        "phone": spellings(PHONE) + spellings(SMS_NUMBER) + OTHER_TESTS_DETAILS["phone"],
        "email": [EMAIL] + OTHER_TESTS_DETAILS["email"],
        "words": MARKERS,
        "secret": [
            env[name]
            for name in (
                "INTAKE_STAFF_TOKEN",
                "INTAKE_ACTIONS_TOKEN",
                "INTAKE_RASA_TOKEN",
                "INTAKE_TELEGRAM_SECRET_TOKEN",
                "INTAKE_ACTIONS_SECRET",
            )
        ]
        + [api.token.split(":", 1)[1], twilio.auth_token],
    }
    assert leaks(stack.var_dir / "log", forbidden) == []
