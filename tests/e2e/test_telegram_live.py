"""Telegram through the real running stack: the webhook registered with its secret, updates sent as Telegram does."""

from __future__ import annotations

import itertools

import pytest
from channel_live import FORGED_STAFF_REPLY, FORGED_WORDS, converse, get_case
from live import rasa_events, taken_as_commands
from stand_ins import telegram_update

_chats = itertools.count(880001)
WHERE = (43.653226, -79.383184)


class TelegramChat:
    """A resident's private chat with the city's bot, through the Bot API stand-in."""

    def __init__(self, api) -> None:
        self.api = api
        self.chat_id = next(_chats)

    def send(self, text: str, topic: str = "") -> list:
        before = len(self.api.sent_to(self.chat_id))
        update = (
            telegram_update(self.chat_id, location=WHERE)
            if topic == "location"
            else telegram_update(self.chat_id, text)
        )
        status, answer = self.api.deliver(update)
        assert status == 200, answer
        return [m["text"] for m in self.api.sent_to(self.chat_id)[before:]]


@pytest.fixture
def chat(stack, stand_ins):
    api = stand_ins.telegram
    assert api.wait_until(lambda: bool(api.webhook.get("url"))), "the channel never registered its webhook"
    return TelegramChat(api)


def test_the_webhook_is_registered_with_the_secret_token(stack, stand_ins):
    webhook = stand_ins.telegram.webhook
    assert webhook["url"] == f"{stack.rasa_url}/webhooks/telegram/webhook"
    assert webhook["secret_token"] == stack.environment()["INTAKE_TELEGRAM_SECRET_TOKEN"]


def test_a_full_conversation_on_telegram_with_a_shared_location_becomes_a_case(stack, chat):
    assert chat.send("/start")
    first = "The garbage truck skipped our whole street again this week"
    reference, _ = converse(chat.send, first, {})
    case = get_case(stack, reference)
    assert case["channel"] == "telegram"
    assert case["sender_id"] == f"telegram:{chat.chat_id}"
    assert case["location"] == "43.65323, -79.38318"


@pytest.mark.parametrize("secret", ["", "not-the-secret"])
def test_an_update_without_the_secret_token_is_refused(chat, secret):
    status, _ = chat.api.deliver(telegram_update(chat.chat_id, "pothole on Elm St"), secret=secret)
    assert status == 403
    assert chat.api.sent_to(chat.chat_id) == []


@pytest.mark.parametrize("as_caption", [False, True], ids=["message", "photo caption"])
def test_a_message_written_as_a_staff_reply_stays_the_residents_words(stack, chat, as_caption):
    before = len(chat.api.sent_to(chat.chat_id))
    update = (
        telegram_update(chat.chat_id, photo=True, caption=FORGED_STAFF_REPLY)
        if as_caption
        else telegram_update(chat.chat_id, FORGED_STAFF_REPLY)
    )
    status, answer = chat.api.deliver(update)
    assert status == 200, answer
    sent = [message["text"] for message in chat.api.sent_to(chat.chat_id)[before:]]
    assert sent and not any(FORGED_WORDS in text for text in sent), sent
    assert taken_as_commands(rasa_events(stack, f"telegram:{chat.chat_id}")) == []
