"""Per-address limits at the channels' edge, in a real server: the web chat and REST webhooks count every request of
a client address; the SMS and Telegram webhooks count only the requests they refuse, since the platforms' own
requests for many residents come from a few addresses."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from channel_testing import ScriptedRasa, serve
from stand_ins import TelegramStandIn, TwilioStandIn, telegram_update, twilio_webhook_params
from twilio.request_validator import RequestValidator

from channels import replies
from channels.limits import DEFAULT_PER_ADDRESS_PER_MINUTE, RateLimiter
from channels.rest import ResidentRestInput, WebChatInput
from channels.sms import SmsInput, SmsSettings
from channels.state import ChannelState
from channels.telegram import SECRET_HEADER, TelegramInput, TelegramSettings
from channels.turn import Turns

Request = tuple[dict[str, Any], dict[str, str]]  # (JSON body or form fields, headers)


def post_all(channel: Any, rasa: ScriptedRasa, requests: list[Request], form: bool = False) -> list[tuple[int, Any]]:
    async def main() -> list[tuple[int, Any]]:
        answers = []
        async with serve(channel, rasa) as url, aiohttp.ClientSession() as session:
            for body, headers in requests:
                send = {"data": body} if form else {"json": body}
                async with session.post(f"{url}/webhook", headers=headers, **send) as response:
                    text = await response.text()
                    answers.append((response.status, text))
        return answers

    return asyncio.run(main())


def rest_channel(tmp_path, per_address: int, cls=ResidentRestInput) -> ResidentRestInput:
    turns = Turns(cls.name(), ChannelState(tmp_path / "channels.db"), RateLimiter(100), options_by_number=False)
    return cls(turns, per_address=RateLimiter(per_address))


@pytest.mark.parametrize("cls", [ResidentRestInput, WebChatInput])
def test_one_address_gets_a_polite_429_after_its_limit_whatever_sender_ids_it_uses(tmp_path, cls):
    rasa = ScriptedRasa()
    answers = post_all(
        rest_channel(tmp_path, per_address=3, cls=cls),
        rasa,
        [({"sender": f"web-{n}", "message": "hello"}, {}) for n in range(5)],
    )
    assert [status for status, _ in answers] == [200, 200, 200, 429, 429]
    assert replies.TOO_FAST in answers[3][1]  # the widget shows it like any reply
    assert len(rasa.received) == 3


def test_behind_a_trusted_proxy_each_resident_address_has_its_own_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("SANIC_PROXIES_COUNT", "1")  # nginx in front adds the client's address, as in deploy/
    rasa = ScriptedRasa()
    requests = [({"sender": f"web-{n}", "message": "hi"}, {"X-Forwarded-For": f"203.0.113.{n % 2}"}) for n in range(6)]
    answers = post_all(rest_channel(tmp_path, per_address=3), rasa, requests)
    assert [status for status, _ in answers] == [200] * 6
    answers = post_all(rest_channel(tmp_path, per_address=1), ScriptedRasa(), requests[:3])
    assert [status for status, _ in answers] == [200, 200, 429]


def test_without_a_trusted_proxy_a_forged_forwarded_header_does_not_escape_the_limit(tmp_path):
    rasa = ScriptedRasa()
    requests = [({"sender": "web-1", "message": "hi"}, {"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(3)]
    answers = post_all(rest_channel(tmp_path, per_address=2), rasa, requests)
    assert [status for status, _ in answers] == [200, 200, 429]


def test_the_per_address_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("INTAKE_RATE_LIMIT_PER_IP_PER_MINUTE", "7")
    assert RateLimiter.per_address_from_env().limit == 7
    monkeypatch.delenv("INTAKE_RATE_LIMIT_PER_IP_PER_MINUTE")
    assert RateLimiter.per_address_from_env().limit == DEFAULT_PER_ADDRESS_PER_MINUTE


def test_sms_refused_requests_are_limited_per_address_and_signed_ones_still_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("INTAKE_RATE_LIMIT_PER_IP_PER_MINUTE", "2")
    url = "https://intake.city.example/webhooks/sms/webhook"
    with TwilioStandIn() as twilio:
        channel = SmsInput(
            SmsSettings(twilio.account_sid, twilio.auth_token, url, twilio.url),
            state=ChannelState(tmp_path / "channels.db"),
            limiter=RateLimiter(100),
        )
        params = twilio_webhook_params(
            account_sid=twilio.account_sid, sender="+14165550123", to="+14165550311", body="pothole on Elm St"
        )
        signed = {"X-Twilio-Signature": RequestValidator(twilio.auth_token).compute_signature(url, params)}
        rasa = ScriptedRasa()
        answers = post_all(channel, rasa, [(params, {})] * 4 + [(params, signed)], form=True)
    assert [status for status, _ in answers] == [403, 403, 429, 429, 200]
    assert rasa.texts == ["pothole on Elm St"]


def test_telegram_requests_without_the_secret_are_limited_per_address_and_real_ones_still_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("INTAKE_RATE_LIMIT_PER_IP_PER_MINUTE", "2")
    with TelegramStandIn() as api:
        channel = TelegramInput(
            TelegramSettings(api.token, "s3cret", api.url, None),
            state=ChannelState(tmp_path / "channels.db"),
            limiter=RateLimiter(100),
        )
        update = telegram_update(5550123, "pothole on Elm St")
        wrong = {SECRET_HEADER: "guess"}
        rasa = ScriptedRasa()
        answers = post_all(
            channel, rasa, [(update, {}), (update, wrong), (update, {}), (update, {SECRET_HEADER: "s3cret"})]
        )
    assert [status for status, _ in answers] == [403, 403, 429, 200]
    assert rasa.texts == ["pothole on Elm St"]
