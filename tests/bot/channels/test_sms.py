"""The text-message channel in a real server: Twilio-signed requests in, the real twilio client out to a stand-in."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from channel_testing import ScriptedRasa, serve
from stand_ins import TwilioStandIn, twilio_webhook_params
from twilio.request_validator import RequestValidator

from channels import replies
from channels.delivery import RetryPolicy
from channels.limits import RateLimiter
from channels.segments import segment_count, total_segments
from channels.sms import SmsInput, SmsSettings, carrier_keyword
from channels.state import ChannelState
from channels.turn import NotDelivered
from channels.twilio_sender import TwilioAccount, TwilioSender

RESIDENT = "+14165550123"
CITY = "+14165550311"
PUBLIC_URL = "https://intake.city.example/webhooks/sms/webhook"


@pytest.fixture
def twilio():
    with TwilioStandIn() as stand_in:
        yield stand_in


def sms_channel(
    tmp_path: Path,
    twilio: TwilioStandIn,
    *,
    limit: int = 100,
    webhook_url: str | None = PUBLIC_URL,
    account: tuple[str, str] | None = None,
) -> SmsInput:
    sid, token = account or (twilio.account_sid, twilio.auth_token)
    state = ChannelState(tmp_path / "channels.db")
    settings = SmsSettings(sid, token, webhook_url, twilio.url)
    sender = TwilioSender(TwilioAccount(sid, token, twilio.url), state, RetryPolicy(attempts=3, first_delay=0.01))
    return SmsInput(settings, state=state, limiter=RateLimiter(limit), sender=sender)


class Phone:
    """A resident's phone: texts go to the webhook through 'Twilio', signed with the account's auth token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        twilio: TwilioStandIn,
        number: str = RESIDENT,
        signed_url: str = PUBLIC_URL,
    ) -> None:
        self.session, self.url, self.twilio, self.number, self.signed_url = session, url, twilio, number, signed_url

    def params(self, body: str, media: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
        return twilio_webhook_params(
            account_sid=self.twilio.account_sid, sender=self.number, to=CITY, body=body, media=media
        )

    async def post(self, params: dict[str, str], signature: str | None = None) -> tuple[int, str]:
        if signature is None:
            signature = RequestValidator(self.twilio.auth_token).compute_signature(self.signed_url, params)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        async with self.session.post(f"{self.url}/webhook", data=params, headers=headers) as response:
            return response.status, await response.text()

    async def text(self, body: str, media: tuple[tuple[str, str], ...] = ()) -> list[str]:
        """Send a text and return the messages the resident received in answer."""
        before = len(self.twilio.sent_to(self.number))
        status, answer = await self.post(self.params(body, media))
        assert status == 200, answer
        assert "<Response" in answer  # empty TwiML: replies go through the Messages API
        return self.twilio.sent_to(self.number)[before:]


def run(channel: SmsInput, rasa: ScriptedRasa, twilio: TwilioStandIn, scenario: Any, **phone: Any) -> None:
    async def main() -> None:
        async with serve(channel, rasa) as url, aiohttp.ClientSession() as session:
            await scenario(Phone(session, url, twilio, **phone))

    asyncio.run(main())


def test_a_signed_message_reaches_rasa_and_the_reply_reaches_the_phone(tmp_path, twilio):
    rasa = ScriptedRasa()

    async def scenario(phone: Phone) -> None:
        assert await phone.text("There is a pothole on Elm St") == ["You said: There is a pothole on Elm St"]

    run(sms_channel(tmp_path, twilio), rasa, twilio, scenario)
    [message] = rasa.received
    assert (message.sender_id, message.input_channel) == (f"sms:{RESIDENT}", "sms")
    assert twilio.messages[0]["From"] == CITY


@pytest.mark.parametrize("forgery", ["unsigned", "tampered body", "other URL", "other token", "added field"])
def test_a_request_twilio_did_not_sign_is_refused_and_reaches_nothing(tmp_path, twilio, forgery):
    rasa = ScriptedRasa()

    async def scenario(phone: Phone) -> None:
        params = phone.params("pothole on Elm St")
        validator = RequestValidator(twilio.auth_token)
        signature = {
            "unsigned": "",
            "tampered body": validator.compute_signature(PUBLIC_URL, {**params, "Body": "something else"}),
            "other URL": validator.compute_signature(f"{phone.url}/webhook", params),
            "other token": RequestValidator("0" * 32).compute_signature(PUBLIC_URL, params),
            "added field": validator.compute_signature(PUBLIC_URL, params),
        }[forgery]
        if forgery == "added field":
            params = {**params, "MediaUrl0": "https://evil.example/x.jpg", "NumMedia": "1"}
        status, _ = await phone.post(params, signature=signature)
        assert status == 403

    run(sms_channel(tmp_path, twilio), rasa, twilio, scenario)
    assert rasa.received == []
    assert twilio.arrived == 0


def test_without_a_public_url_the_signature_covers_the_url_this_server_sees(tmp_path, twilio):
    rasa = ScriptedRasa()

    async def scenario(phone: Phone) -> None:
        phone.signed_url = f"{phone.url}/webhook"
        assert await phone.text("hello")

    run(sms_channel(tmp_path, twilio, webhook_url=None), rasa, twilio, scenario)
    assert rasa.texts == ["hello"]


def test_without_twilio_credentials_the_channel_refuses_everything(tmp_path, twilio):
    rasa = ScriptedRasa()
    channel = SmsInput(SmsSettings(), state=ChannelState(tmp_path / "c.db"))

    async def scenario(phone: Phone) -> None:
        status, _ = await phone.post(phone.params("hello"))
        assert status == 503

    run(channel, rasa, twilio, scenario)
    assert rasa.received == []


@pytest.mark.parametrize(
    "text, keyword",
    [
        ("STOP", "STOP"),
        ("stop", "STOP"),
        (" Stop. ", "STOP"),
        ("stopall", "STOPALL"),
        ("Unsubscribe", "UNSUBSCRIBE"),
        ("end", "END"),
        ("QUIT!", "QUIT"),
        ("cancel", "CANCEL"),
        ("ARRÊT", "ARRET"),
        ("arret", "ARRET"),
        ("start", "START"),
        ("Unstop", "UNSTOP"),
        ("yes", "YES"),
        ("help", "HELP"),
        ("INFO", "INFO"),
        ("cancel report", None),
        ("stop this", None),
        ("please stop", None),
        ("stop 2", None),
        ("stopping", None),
        ("", None),
        ("1", None),
    ],
)
def test_carrier_keywords_are_single_whole_words(text, keyword):
    assert carrier_keyword(text) == keyword


def test_stop_opts_out_for_good_and_start_opts_back_in(tmp_path, twilio):
    rasa = ScriptedRasa()

    async def scenario(phone: Phone) -> None:
        assert await phone.text("STOP") == [replies.SMS_OPTED_OUT]  # the one confirmation carriers expect
        assert await phone.text("pothole on Elm St") == []  # kept, but never answered
        assert await phone.text("HELP") == []
        assert await phone.text("yes") == [replies.SMS_OPTED_IN]  # YES opts back in only when opted out
        assert await phone.text("yes") == ["You said: yes"]
        assert await phone.text("arrêt") == [replies.SMS_OPTED_OUT]
        assert await phone.text("START") == [replies.SMS_OPTED_IN]
        assert await phone.text("HELP") == [replies.SMS_HELP]

    channel = sms_channel(tmp_path, twilio)
    run(channel, rasa, twilio, scenario)
    assert rasa.texts == ["pothole on Elm St", "yes"]
    assert asyncio.run(ChannelState(tmp_path / "channels.db").is_opted_out(f"sms:{RESIDENT}")) is False


def test_an_opt_out_survives_a_restart(tmp_path, twilio):
    async def stop(phone: Phone) -> None:
        await phone.text("STOP")

    async def later(phone: Phone) -> None:
        assert await phone.text("is anyone there") == []

    run(sms_channel(tmp_path, twilio), ScriptedRasa(), twilio, stop)
    run(sms_channel(tmp_path, twilio), ScriptedRasa(), twilio, later)
    assert twilio.sent_to(RESIDENT) == [replies.SMS_OPTED_OUT]


def test_a_bot_reply_after_stop_is_never_sent(tmp_path, twilio):
    """Even a reply produced while the STOP arrives (e.g. a slow turn) is checked against the list when sent."""
    state = ChannelState(tmp_path / "channels.db")
    sender = TwilioSender(TwilioAccount(twilio.account_sid, twilio.auth_token, twilio.url), state)

    async def main() -> int:
        await state.opt_out(f"sms:{RESIDENT}")
        try:
            return await sender.send(sender_id=f"sms:{RESIDENT}", to=RESIDENT, from_=CITY, text="Your reference is X.")
        finally:
            await sender.close()

    assert asyncio.run(main()) == 0
    assert twilio.arrived == 0


def test_with_twilio_advanced_opt_out_the_keyword_is_recorded_but_not_answered_twice(tmp_path, twilio):
    async def scenario(phone: Phone) -> None:
        params = {**phone.params("STOP"), "OptOutType": "STOP"}
        assert (await phone.post(params))[0] == 200
        assert await phone.text("hello") == []

    run(sms_channel(tmp_path, twilio), ScriptedRasa(), twilio, scenario)
    assert twilio.messages == []


def test_cancel_alone_opts_out_while_cancel_report_cancels_the_report(tmp_path, twilio):
    rasa = ScriptedRasa(lambda m: [{"text": "OK, I've stopped. Nothing was saved."}])

    async def scenario(phone: Phone) -> None:
        assert await phone.text("cancel report") == ["OK, I've stopped. Nothing was saved."]
        assert await phone.text("Cancel") == [replies.SMS_OPTED_OUT]

    run(sms_channel(tmp_path, twilio), rasa, twilio, scenario)
    assert rasa.texts == ["cancel report"]


def test_buttons_become_numbered_options_and_a_number_picks_one(tmp_path, twilio):
    def answer(message):
        if message.text == "pothole on Elm St":
            return [
                {
                    "text": "Is this about a road?",
                    "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
                }
            ]
        return [{"text": f"Got {message.text}"}]

    rasa = ScriptedRasa(answer)

    async def scenario(phone: Phone) -> None:
        assert await phone.text("pothole on Elm St") == ["Is this about a road?\nReply 1 for Yes or 2 for No."]
        assert await phone.text("2") == ["Got /deny"]
        assert await phone.text("2") == ["Got 2"]  # no options on offer: just the resident's words

    run(sms_channel(tmp_path, twilio), rasa, twilio, scenario)
    assert rasa.texts == ["pothole on Elm St", "/deny", "2"]


def test_a_reply_that_fills_whole_segments_is_cut_between_sentences(tmp_path, twilio):
    """Three sentences of about 157 characters: three lone segments, where one joined message would take four."""
    sentences = [
        "Thank you for telling us about the deep pothole on Elm Street near the school. A crew from Transportation "
        "Services will look at it within five working days.",
        "Your reference number is S-4F7KQ2X. Please keep it somewhere safe, and text it to us at any time to ask "
        "what is happening with your report, by day or night.",
        "If the hole gets a lot bigger or someone is hurt before the crew comes, call 311 right away. If anyone is "
        "in danger at any time, please call 911 first of all.",
    ]
    rasa = ScriptedRasa(lambda m: [{"text": f"{sentences[0]} {sentences[1]}"}, {"text": sentences[2]}])

    async def scenario(phone: Phone) -> None:
        received = await phone.text("pothole")
        assert received == sentences
        assert total_segments(received) == 3
        assert segment_count("\n".join(sentences)) == 4

    run(sms_channel(tmp_path, twilio), rasa, twilio, scenario)


def test_a_reply_that_one_joined_message_carries_more_cheaply_goes_whole(tmp_path, twilio):
    """Two sentences of 100 characters: one message of two segments, where lone segments would take two as well."""
    first = "Thank you, your report is saved and your reference number is S-4F7KQ2X. Please keep it for later."
    second = "A crew from Transportation Services will look at the pothole within five working days of today."
    rasa = ScriptedRasa(lambda m: [{"text": first}, {"text": second}])

    async def scenario(phone: Phone) -> None:
        assert await phone.text("pothole") == [f"{first}\n{second}"]

    run(sms_channel(tmp_path, twilio), rasa, twilio, scenario)


def test_typographic_punctuation_does_not_double_the_cost(tmp_path, twilio):
    rasa = ScriptedRasa(lambda m: [{"text": "We’ll look at it — thank you…"}])

    async def scenario(phone: Phone) -> None:
        assert await phone.text("pothole") == ["We'll look at it - thank you..."]

    run(sms_channel(tmp_path, twilio), rasa, twilio, scenario)


def test_a_photo_alone_is_kept_and_the_resident_is_asked_for_words(tmp_path, twilio):
    rasa = ScriptedRasa()
    photo = ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg")

    async def scenario(phone: Phone) -> None:
        assert await phone.text("", media=(photo,)) == [replies.ask_for_words([{"content_type": "image/jpeg"}])]
        assert await phone.text("pothole on Elm St") == ["You said: pothole on Elm St"]
        assert await phone.text("it is deep") == ["You said: it is deep"]

    run(sms_channel(tmp_path, twilio), rasa, twilio, scenario)
    assert [m.text for m in rasa.received] == ["pothole on Elm St", "it is deep"]
    assert rasa.received[0].metadata == {"attachments": [{"url": photo[0], "content_type": "image/jpeg"}]}
    assert rasa.received[1].metadata is None


def test_a_photo_with_words_goes_to_rasa_with_its_attachment(tmp_path, twilio):
    rasa = ScriptedRasa()
    photo = ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM2/Media/ME2", "image/png")

    async def scenario(phone: Phone) -> None:
        await phone.text("this bin was left", media=(photo,))

    run(sms_channel(tmp_path, twilio), rasa, twilio, scenario)
    assert rasa.received[0].metadata == {"attachments": [{"url": photo[0], "content_type": "image/png"}]}


def test_too_many_messages_get_one_polite_answer_then_silence(tmp_path, twilio):
    rasa = ScriptedRasa()

    async def scenario(phone: Phone) -> None:
        assert len(await phone.text("one")) == 1
        assert len(await phone.text("two")) == 1
        assert await phone.text("three") == [replies.TOO_FAST]
        assert await phone.text("four") == []

    run(sms_channel(tmp_path, twilio, limit=2), rasa, twilio, scenario)
    assert rasa.texts == ["one", "two"]


def test_a_message_over_the_size_limit_gets_a_polite_answer(tmp_path, twilio):
    rasa = ScriptedRasa()

    async def scenario(phone: Phone) -> None:
        assert await phone.text("x " * 1500) == [replies.TOO_LONG]

    run(sms_channel(tmp_path, twilio), rasa, twilio, scenario)
    assert rasa.received == []


def test_twilio_retrying_the_same_message_is_handled_once(tmp_path, twilio):
    rasa = ScriptedRasa()

    async def scenario(phone: Phone) -> None:
        params = phone.params("pothole")
        assert (await phone.post(params))[0] == 200
        assert (await phone.post(params))[0] == 200

    run(sms_channel(tmp_path, twilio), rasa, twilio, scenario)
    assert rasa.texts == ["pothole"]


def test_a_busy_twilio_is_retried_and_the_log_has_no_personal_data(tmp_path, twilio, caplog):
    caplog.set_level(logging.DEBUG, logger="channels")
    twilio.fail_next(503, times=2)

    async def scenario(phone: Phone) -> None:
        assert await phone.text("my phone is 416-555-0199") == ["You said: my phone is 416-555-0199"]

    run(sms_channel(tmp_path, twilio), ScriptedRasa(), twilio, scenario)
    assert twilio.attempts == 3
    ours = ("channels", "twilio", "telegram", "httpx", "aiohttp")  # not the test server's banner with its port
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(ours))
    assert "HTTP 503" in logged
    for private in (RESIDENT, "416", "555", "my phone"):
        assert private not in logged


def test_a_refused_message_is_not_retried(tmp_path, twilio):
    twilio.fail_next(400, code=21617)

    async def scenario(phone: Phone) -> None:
        assert await phone.text("hello") == []

    run(sms_channel(tmp_path, twilio), ScriptedRasa(), twilio, scenario)
    assert twilio.attempts == 1


def test_twilios_own_unsubscribed_answer_is_remembered(tmp_path, twilio):
    twilio.unsubscribed.add(RESIDENT)

    async def scenario(phone: Phone) -> None:
        assert await phone.text("hello") == []
        twilio.unsubscribed.clear()
        assert await phone.text("hello again") == []  # our own list now says so too

    run(sms_channel(tmp_path, twilio), ScriptedRasa(), twilio, scenario)
    assert twilio.attempts == 1


def test_sending_does_not_block_the_event_loop(tmp_path, twilio):
    """While Twilio has not answered a send, the same server still answers other requests."""

    async def scenario(phone: Phone) -> None:
        twilio.hold()
        texting = asyncio.create_task(phone.text("hello"))
        await asyncio.to_thread(twilio.wait_until, lambda: twilio.arrived >= 1)
        async with phone.session.get(f"{phone.url}/") as response:
            assert response.status == 200
        assert not texting.done()
        twilio.release()
        assert await texting == ["You said: hello"]

    run(sms_channel(tmp_path, twilio), ScriptedRasa(), twilio, scenario)


def test_a_message_outside_a_turn_goes_from_the_number_the_resident_texted_unless_they_opted_out(tmp_path, twilio):
    """Rasa's API (e.g. a staff reply with output_channel=latest) sends through the channel's output."""
    channel = sms_channel(tmp_path, twilio)

    async def scenario(phone: Phone) -> None:
        output = channel.get_output_channel()
        assert output.name() == "sms"
        # Nothing sent fails Rasa's call (its API answers 500), so that the outbox or staff know it did not go.
        with pytest.raises(NotDelivered):
            await output.send_response(f"sms:{RESIDENT}", {"text": "About your report S-4F7KQ2X: it is fixed."})
        await phone.text("hello")
        await output.send_response(f"sms:{RESIDENT}", {"text": "About your report S-4F7KQ2X: it is fixed."})
        with pytest.raises(NotDelivered):
            await output.send_response("sms:+14165559999", {"text": "Never texted us."})
        await phone.text("STOP")
        with pytest.raises(NotDelivered):
            await output.send_text_message(f"sms:{RESIDENT}", "One more thing.")

    run(channel, ScriptedRasa(), twilio, scenario)
    assert twilio.sent_to(RESIDENT) == [
        "You said: hello",
        "About your report S-4F7KQ2X: it is fixed.",
        replies.SMS_OPTED_OUT,
    ]
    assert {m["From"] for m in twilio.messages} == {CITY}
