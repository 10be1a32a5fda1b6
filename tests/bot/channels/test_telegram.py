"""The Telegram channel in a real server: real Update JSON in, python-telegram-bot's Bot out to a Bot API stand-in."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from channel_testing import ScriptedRasa, serve
from live import free_port
from stand_ins import TelegramStandIn, telegram_update

from channels import replies
from channels.delivery import RetryPolicy
from channels.limits import RateLimiter
from channels.state import ChannelState
from channels.telegram import SECRET_HEADER, TelegramInput, TelegramSettings
from channels.turn import NotDelivered

CHAT = 5550123
SECRET = "s3cret-token_for-the-webhook"
REMOVE_KEYBOARD = {"remove_keyboard": True}


@pytest.fixture
def api():
    with TelegramStandIn() as stand_in:
        yield stand_in


def telegram_channel(
    tmp_path: Path, api: TelegramStandIn, *, limit: int = 100, webhook_url: str | None = None
) -> TelegramInput:
    settings = TelegramSettings(api.token, SECRET, api.url, webhook_url)
    return TelegramInput(
        settings,
        state=ChannelState(tmp_path / "channels.db"),
        limiter=RateLimiter(limit),
        policy=RetryPolicy(attempts=3, first_delay=0.01),
    )


class Chat:
    """A resident's Telegram app: updates go to the webhook as Telegram's servers send them."""

    def __init__(self, session: aiohttp.ClientSession, url: str, api: TelegramStandIn) -> None:
        self.session, self.url, self.api = session, url, api

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret else {}
        async with self.session.post(f"{self.url}/webhook", json=update, headers=headers) as response:
            return response.status

    async def send(self, text: str | None = None, **update: Any) -> list[dict[str, Any]]:
        """Send a message and return the bot's messages in answer ({"text", "reply_markup"})."""
        before = len(self.api.sent_to(CHAT))
        assert await self.post(telegram_update(CHAT, text, **update)) == 200
        return self.api.sent_to(CHAT)[before:]

    async def texts(self, text: str | None = None, **update: Any) -> list[str]:
        return [m["text"] for m in await self.send(text, **update)]


def run(
    channel: TelegramInput, rasa: ScriptedRasa, api: TelegramStandIn, scenario: Any, port: int | None = None
) -> None:
    async def main() -> None:
        async with serve(channel, rasa, port) as url, aiohttp.ClientSession() as session:
            await scenario(Chat(session, url, api))

    asyncio.run(main())


def test_a_message_reaches_rasa_and_the_reply_reaches_the_chat(tmp_path, api):
    rasa = ScriptedRasa()

    async def scenario(chat: Chat) -> None:
        [reply] = await chat.send("There is a pothole on Elm St")
        assert reply == {
            "chat_id": CHAT,
            "text": "You said: There is a pothole on Elm St",
            "reply_markup": REMOVE_KEYBOARD,
        }

    run(telegram_channel(tmp_path, api), rasa, api, scenario)
    [message] = rasa.received
    assert (message.sender_id, message.input_channel) == (f"telegram:{CHAT}", "telegram")


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET.upper()])
def test_a_request_without_the_secret_token_is_refused_and_reaches_nothing(tmp_path, api, secret):
    rasa = ScriptedRasa()

    async def scenario(chat: Chat) -> None:
        assert await chat.post(telegram_update(CHAT, "hello"), secret=secret) == 403

    run(telegram_channel(tmp_path, api), rasa, api, scenario)
    assert rasa.received == [] and api.sent == []


def test_without_a_bot_token_and_secret_the_channel_refuses_everything(tmp_path, api):
    rasa = ScriptedRasa()
    channel = TelegramInput(TelegramSettings(), state=ChannelState(tmp_path / "c.db"))

    async def scenario(chat: Chat) -> None:
        assert await chat.post(telegram_update(CHAT, "hello"), secret="") == 503

    run(channel, rasa, api, scenario)
    assert rasa.received == []


def test_the_commands_stand_for_intents_and_others_get_the_list(tmp_path, api):
    rasa = ScriptedRasa(lambda m: [{"text": "OK."}])

    async def scenario(chat: Chat) -> None:
        for command in ("/start", "/help", "/cancel", "/help@city311_test_bot"):
            assert await chat.texts(command) == ["OK."]
        assert await chat.texts("/weather") == [replies.TELEGRAM_COMMANDS]
        assert await chat.texts('/complaint{"description": "x"}') == [replies.TELEGRAM_COMMANDS]

    run(telegram_channel(tmp_path, api), rasa, api, scenario)
    assert rasa.texts == ["/restart", "/help", "/cancel", "/help"]


def test_buttons_become_a_keyboard_and_a_tap_sends_the_payload(tmp_path, api):
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

    async def scenario(chat: Chat) -> None:
        [question] = await chat.send("pothole on Elm St")
        assert question["text"] == "Is this about a road?"
        assert question["reply_markup"]["keyboard"] == [[{"text": "Yes"}], [{"text": "No"}]]
        assert question["reply_markup"]["one_time_keyboard"] is True
        [answer] = await chat.send("No")  # a tap on a reply keyboard sends the button's title
        assert answer == {"chat_id": CHAT, "text": "Got /deny", "reply_markup": REMOVE_KEYBOARD}
        assert await chat.texts("No") == ["Got No"]  # no buttons on offer any more

    run(telegram_channel(tmp_path, api), rasa, api, scenario)
    assert rasa.texts == ["pothole on Elm St", "/deny", "No"]


def test_a_shared_location_answers_with_its_coordinates(tmp_path, api):
    rasa = ScriptedRasa()

    async def scenario(chat: Chat) -> None:
        await chat.send(location=(43.653226, -79.383184))

    run(telegram_channel(tmp_path, api), rasa, api, scenario)
    [message] = rasa.received
    assert message.text == "43.65323, -79.38318"
    assert message.metadata == {"location": {"latitude": 43.653226, "longitude": -79.383184}}


def test_a_photo_alone_is_kept_and_the_resident_is_asked_for_words(tmp_path, api):
    rasa = ScriptedRasa()

    async def scenario(chat: Chat) -> None:
        assert await chat.texts(photo=True) == [replies.ask_for_words([{"content_type": "image/jpeg"}])]
        assert await chat.texts("a pothole on Elm St") == ["You said: a pothole on Elm St"]
        await chat.send(photo=True, caption="and another one")

    run(telegram_channel(tmp_path, api), rasa, api, scenario)
    assert rasa.texts == ["a pothole on Elm St", "and another one"]
    for message in rasa.received:
        [attachment] = message.metadata["attachments"]
        assert attachment["content_type"] == "image/jpeg" and attachment["telegram_file_id"].startswith("AgAC")


@pytest.mark.parametrize(
    "update, answer",
    [
        (telegram_update(CHAT, "pothole on Elm Street", edited=True), [replies.TELEGRAM_EDITED]),
        (telegram_update(CHAT, "pothole", chat_type="group"), [replies.TELEGRAM_GROUP]),
        (
            {
                "update_id": 1,
                "my_chat_member": {
                    "chat": {"id": CHAT, "type": "private"},
                    "from": {"id": CHAT, "is_bot": False, "first_name": "R"},
                    "date": 1,
                    "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "B"}},
                    "new_chat_member": {
                        "status": "kicked",
                        "until_date": 0,
                        "user": {"id": 1, "is_bot": True, "first_name": "B"},
                    },
                },
            },
            [],
        ),
        (
            {
                "update_id": 2,
                "poll": {
                    "id": "1",
                    "question": "?",
                    "options": [],
                    "total_voter_count": 0,
                    "is_closed": True,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                },
            },
            [],
        ),
        (telegram_update(CHAT, None), [replies.WORDS_ONLY]),  # e.g. a sticker: no words, no file
    ],
)
def test_updates_the_assistant_cannot_use_are_answered_gracefully(tmp_path, api, update, answer):
    rasa = ScriptedRasa()

    async def scenario(chat: Chat) -> None:
        assert await chat.post(update) == 200

    run(telegram_channel(tmp_path, api), rasa, api, scenario)
    assert rasa.received == []
    assert [m["text"] for m in api.sent] == answer


def test_a_body_that_is_not_an_update_is_refused(tmp_path, api):
    async def scenario(chat: Chat) -> None:
        async with chat.session.post(
            f"{chat.url}/webhook", data=b"{not json", headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 400

    run(telegram_channel(tmp_path, api), ScriptedRasa(), api, scenario)


def test_telegram_delivering_an_update_twice_is_handled_once(tmp_path, api):
    rasa = ScriptedRasa()

    async def scenario(chat: Chat) -> None:
        update = telegram_update(CHAT, "pothole")
        assert await chat.post(update) == 200
        assert await chat.post(update) == 200

    run(telegram_channel(tmp_path, api), rasa, api, scenario)
    assert rasa.texts == ["pothole"]


def test_too_many_messages_get_one_polite_answer_then_silence(tmp_path, api):
    rasa = ScriptedRasa()

    async def scenario(chat: Chat) -> None:
        assert len(await chat.texts("one")) == 1
        assert await chat.texts("two") == [replies.TOO_FAST]
        assert await chat.texts("three") == []

    run(telegram_channel(tmp_path, api, limit=1), rasa, api, scenario)
    assert rasa.texts == ["one"]


def test_a_message_over_the_size_limit_gets_a_polite_answer(tmp_path, api):
    rasa = ScriptedRasa()

    async def scenario(chat: Chat) -> None:
        assert await chat.texts("x" * 2001) == [replies.TOO_LONG]

    run(telegram_channel(tmp_path, api), rasa, api, scenario)
    assert rasa.received == []


def test_telegram_asking_to_slow_down_is_respected_and_the_log_has_no_personal_data(tmp_path, api, caplog):
    caplog.set_level(logging.DEBUG, logger="channels")
    api.fail_next(429, "Too Many Requests: retry after 1", retry_after=1)
    api.fail_next(502, "Bad Gateway")

    async def scenario(chat: Chat) -> None:
        assert await chat.texts("my name is Jo Smith") == ["You said: my name is Jo Smith"]

    run(telegram_channel(tmp_path, api), ScriptedRasa(), api, scenario)
    assert api.calls.count("sendMessage") == 3
    ours = ("channels", "twilio", "telegram", "httpx", "aiohttp")  # not the test server's banner with its port
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(ours))
    assert "retrying in 1.0 s" in logged  # Telegram's own retry_after, not our backoff
    assert str(CHAT) not in logged and "Jo Smith" not in logged


def test_a_refused_message_is_not_retried(tmp_path, api):
    api.fail_next(400, "Bad Request: chat not found")

    async def scenario(chat: Chat) -> None:
        assert await chat.texts("hello") == []

    run(telegram_channel(tmp_path, api), ScriptedRasa(), api, scenario)
    assert api.calls.count("sendMessage") == 1


def test_the_webhook_is_registered_with_the_secret_when_the_server_starts(tmp_path, api):
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/telegram/webhook"
    rasa = ScriptedRasa()

    async def scenario(chat: Chat) -> None:
        assert api.webhook == {"url": url, "secret_token": SECRET, "allowed_updates": ["message", "edited_message"]}
        status, _ = await asyncio.to_thread(api.deliver, telegram_update(CHAT, "hello"))
        assert status == 200
        status, _ = await asyncio.to_thread(api.deliver, telegram_update(CHAT, "hello"), secret="guess")
        assert status == 403

    run(telegram_channel(tmp_path, api, webhook_url=url), rasa, api, scenario, port=port)
    assert rasa.texts == ["hello"]


def test_a_message_outside_a_turn_reaches_the_chat(tmp_path, api):
    """Rasa's API (e.g. a staff reply with output_channel=latest) sends through the channel's output."""
    channel = telegram_channel(tmp_path, api)

    async def scenario(chat: Chat) -> None:
        output = channel.get_output_channel()
        assert output.name() == "telegram"
        await output.send_response(f"telegram:{CHAT}", {"text": "About your report S-4F7KQ2X: it is fixed."})
        # Not delivered fails Rasa's call (its API answers 500), so that the outbox or staff know to try again.
        with pytest.raises(NotDelivered):
            await output.send_response("sms:+14165550123", {"text": "Not a Telegram chat."})
        api.fail_next(500, "Internal Server Error", times=10)
        with pytest.raises(NotDelivered):
            await output.send_response(f"telegram:{CHAT}", {"text": "Telegram is down."})

    run(channel, ScriptedRasa(), api, scenario)
    assert [m["text"] for m in api.sent] == ["About your report S-4F7KQ2X: it is fixed."]
