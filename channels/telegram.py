"""The Telegram channel (`POST /webhooks/telegram/webhook`), built on python-telegram-bot.

- Telegram calls the webhook with the secret token it was registered with (`X-Telegram-Bot-Api-Secret-Token`);
  every other request gets 403. With `INTAKE_TELEGRAM_WEBHOOK_URL` set, the webhook is registered (with the
  secret) when the server starts.
- Updates are parsed with `Update.de_json`; replies are sent with the library's `Bot` (`INTAKE_TELEGRAM_API_URL`
  points it at another Bot API server, such as the tests' local stand-in).
- /start starts over, /help and /cancel do what they say; buttons become a one-tap keyboard (typing works as
  well); a shared location answers "where" with its coordinates; photos and files are kept as attachments.
- Edited messages, group chats and updates the assistant cannot use get a short, polite answer or none.
- Messages outside a turn (a staff reply through Rasa's API with `output_channel=latest`) go out the same way.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from channels import replies
from channels.delivery import Failure, RetryPolicy, deliver
from channels.limits import RateLimiter, Verdict, client_address
from channels.options import options_from_buttons
from channels.segments import split_text
from channels.state import ChannelState, shared_state
from channels.turn import Incoming, PushOutput, Turns

logger = logging.getLogger(__name__)
# python-telegram-bot calls the Bot API through httpx, which logs every request's URL at INFO: the URL holds the
# bot's token.
logging.getLogger("httpx").setLevel(logging.WARNING)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_API_URL = "https://api.telegram.org"
# Intents the commands stand for. /start restarts: Telegram sends it when a resident opens the chat, and
# pressing it later should begin afresh rather than answer a form's question with "/start".
COMMANDS = {"start": "/restart", "help": "/help", "cancel": "/cancel"}
ALLOWED_UPDATES = ("message", "edited_message")


@dataclass(frozen=True)
class TelegramSettings:
    """The channel's configuration, from environment variables."""

    bot_token: str | None = None
    secret_token: str | None = None
    api_url: str = DEFAULT_API_URL
    webhook_url: str | None = None

    @classmethod
    def from_env(cls) -> TelegramSettings:
        """Read INTAKE_TELEGRAM_BOT_TOKEN, _SECRET_TOKEN, _API_URL and _WEBHOOK_URL."""
        get = lambda name: (os.environ.get(f"INTAKE_TELEGRAM_{name}") or "").strip() or None  # noqa: E731
        return cls(get("BOT_TOKEN"), get("SECRET_TOKEN"), get("API_URL") or DEFAULT_API_URL, get("WEBHOOK_URL"))

    @property
    def configured(self) -> bool:
        return bool(self.bot_token and self.secret_token)


def classify(error: BaseException) -> Failure:
    """Say what a failed Bot API call means, without the chat or the words."""
    if isinstance(error, RetryAfter):
        return Failure("Telegram asked to slow down", retry=True, wait=float(error.retry_after))
    if isinstance(error, BadRequest):
        return Failure("Telegram refused the message (bad request)", retry=False)
    if isinstance(error, NetworkError):  # includes TimedOut
        return Failure(f"Telegram unreachable ({type(error).__name__})", retry=True)
    if isinstance(error, TelegramError):
        return Failure(f"Telegram refused the message ({type(error).__name__})", retry=False)
    return Failure(f"unexpected {type(error).__name__}", retry=False)


def incoming_from(message: Message, sender_id: str) -> Incoming:
    """Return what a Telegram message says, as the words, command, attachments and metadata for Rasa.

    Only a message's own text can be one of the commands (/start, /help, /cancel); a photo's or file's caption is
    the resident's words, cleaned like any text (channels/turn.py).
    """
    text = message.text or message.caption or ""
    command: str | None = None
    metadata: dict[str, Any] = {}
    attachments: list[dict[str, str]] = []
    if message.text and message.text.startswith("/"):
        name = message.text.split()[0][1:].split("@")[0].lower()
        command = COMMANDS.get(name, "")
        text = ""
    if message.venue:
        text = ", ".join(part for part in (message.venue.title, message.venue.address) if part)
    if message.location:
        latitude, longitude = message.location.latitude, message.location.longitude
        metadata["location"] = {"latitude": latitude, "longitude": longitude}
        text = text or f"{latitude:.5f}, {longitude:.5f}"
    if message.contact and message.contact.phone_number:
        text = message.contact.phone_number
    if message.photo:
        attachments.append({"telegram_file_id": message.photo[-1].file_id, "content_type": "image/jpeg"})
    for item in (message.document, message.video, message.voice, message.audio):
        if item is not None:
            attachments.append({"telegram_file_id": item.file_id, "content_type": item.mime_type or ""})
    return Incoming(sender_id=sender_id, text=text, command=command, attachments=tuple(attachments), metadata=metadata)


def _is(value: Any, *types: type) -> bool:
    # bool is an int to Python; none of Telegram's ids or coordinates is one.
    return isinstance(value, types) and not isinstance(value, bool)


def _text_or_none(*values: Any) -> bool:
    return all(value is None or isinstance(value, str) for value in values)


def well_formed(update: Update) -> bool:
    """Say whether the fields this channel reads have the types Telegram gives them (the library checks none)."""
    if not _is(update.update_id, int):
        return False
    for message in (update.message, update.edited_message):
        if message is None:
            continue
        if message.chat is None or not _is(message.chat.id, int) or not isinstance(message.chat.type, str):
            return False
        if not _text_or_none(message.text, message.caption):
            return False
        if message.location and not all(
            _is(v, int, float) and math.isfinite(v) for v in (message.location.latitude, message.location.longitude)
        ):
            return False
        if message.venue and not _text_or_none(message.venue.title, message.venue.address):
            return False
        if message.contact and not _text_or_none(message.contact.phone_number):
            return False
        files = [*(message.photo or ()), message.document, message.video, message.voice, message.audio]
        if not all(
            isinstance(f.file_id, str) and _text_or_none(getattr(f, "mime_type", None)) for f in files if f is not None
        ):
            return False
    return True


def _text_and_buttons(message: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    return message.get("text") or message.get("image") or message.get("attachment") or "", message.get("buttons") or []


class TelegramInput(InputChannel):
    """Receive residents' Telegram messages through a webhook and answer with the Bot API."""

    def __init__(
        self,
        settings: TelegramSettings,
        state: ChannelState | None = None,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.state = state or shared_state()
        self.turns = Turns(self.name(), self.state, limiter or RateLimiter.from_env(), options_by_number=False)
        self.policy = policy or RetryPolicy()
        self.refused = RateLimiter.per_address_from_env()
        self.bot = Bot(
            settings.bot_token or "unconfigured",
            base_url=f"{settings.api_url.rstrip('/')}/bot",
            base_file_url=f"{settings.api_url.rstrip('/')}/file/bot",
        )
        self._ready = asyncio.Lock()
        self._initialized = False
        if not settings.configured:
            logger.warning(
                "the telegram channel refuses every request: set INTAKE_TELEGRAM_BOT_TOKEN and "
                "INTAKE_TELEGRAM_SECRET_TOKEN"
            )

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(TelegramSettings.from_env())

    def get_output_channel(self) -> OutputChannel | None:
        return PushOutput(self)

    def has_secret(self, request: Request) -> bool:
        """Say whether the request carries the secret token the webhook was registered with."""
        given = request.headers.get(SECRET_HEADER) or ""
        return bool(self.settings.secret_token) and hmac.compare_digest(
            given.encode(), self.settings.secret_token.encode()
        )

    async def _bot(self) -> Bot:
        # Initialised on first use, inside the running event loop its HTTP client belongs to.
        async with self._ready:
            if not self._initialized:
                await self.bot.initialize()
                self._initialized = True
        return self.bot

    async def register_webhook(self) -> bool:
        """Register INTAKE_TELEGRAM_WEBHOOK_URL with Telegram, with the secret token; return whether it worked."""
        url, secret = self.settings.webhook_url, self.settings.secret_token

        async def call() -> None:
            bot = await self._bot()
            await bot.set_webhook(url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES))

        delivered, _ = await deliver(
            call, channel="telegram webhook registration", policy=self.policy, classify=classify
        )
        return delivered

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.listener("after_server_start")
        async def register(*_: Any) -> None:
            if self.settings.configured and self.settings.webhook_url:
                if await self.register_webhook():
                    logger.info("telegram webhook registered")

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            if self._initialized:
                await self.bot.shutdown()
                self._initialized = False

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings.configured else "not configured"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                return response.text("The Telegram channel is not configured.", status=503)
            if not self.has_secret(request):
                # Telegram's own requests are limited per resident; a client sending ones without the secret, per
                # address.
                if self.refused.check(client_address(request)) is not Verdict.ALLOW:
                    return response.text("Too many requests", status=429)
                logger.warning("telegram webhook refused a request without the secret token")
                return response.text("Forbidden", status=403)
            try:
                body = request.json
                update = Update.de_json(body, self.bot) if isinstance(body, dict) else None
            except Exception:  # a body Telegram would never send; nothing to answer
                update = None
            if update is None or not well_formed(update):
                return response.text("Send a Telegram Update as JSON.", status=400)
            if await self.state.first_delivery(f"telegram:{update.update_id}"):
                await self.handle(update, on_new_message)
            return response.text("")

        return webhook

    async def handle(self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Answer one update; kinds the assistant does not use are acknowledged and dropped."""
        if update.edited_message is not None:
            await self.send_all(update.edited_message.chat_id, [(replies.TELEGRAM_EDITED, [])])
            return
        message = update.message
        if message is None:
            logger.debug("telegram update of an unused kind ignored")
            return
        if message.chat.type != "private":
            # In a group, other members would read the resident's report and the replies.
            await self.send_all(message.chat_id, [(replies.TELEGRAM_GROUP, [])])
            return
        incoming = incoming_from(message, f"telegram:{message.chat_id}")
        if incoming.command == "":
            await self.send_all(message.chat_id, [(replies.TELEGRAM_COMMANDS, [])])
            return
        result = await self.turns.handle(incoming, on_new_message)
        await self.send_all(message.chat_id, [_text_and_buttons(m) for m in result.replies])

    async def push(self, recipient_id: str, messages: list[dict[str, Any]]) -> int:
        """Send bot messages outside a resident's turn; return how many Telegram accepted."""
        chat = recipient_id[len("telegram:") :] if recipient_id.startswith("telegram:") else ""
        if not chat.lstrip("-").isdigit():
            logger.warning("telegram message not sent: the recipient is not a Telegram chat")
            return 0
        offered = [options_from_buttons(m.get("buttons")) for m in messages]
        if any(offered):
            await self.state.offer_options(recipient_id, next(o for o in reversed(offered) if o))
        return await self.send_all(int(chat), [_text_and_buttons(m) for m in messages])

    async def send_all(self, chat_id: int, messages: list[tuple[str, list[dict[str, Any]]]]) -> int:
        """Send the replies in order, buttons as a keyboard; return how many messages Telegram accepted."""
        parts: list[tuple[str, Any]] = []
        for text, buttons in messages:
            pieces = split_text(text, lambda piece: len(piece) <= MessageLimit.MAX_TEXT_LENGTH)
            options = options_from_buttons(buttons)
            for index, piece in enumerate(pieces):
                keyboard = None
                if options and index == len(pieces) - 1:
                    keyboard = ReplyKeyboardMarkup(
                        [[o.title] for o in options], resize_keyboard=True, one_time_keyboard=True
                    )
                parts.append((piece, keyboard))
        if parts and parts[-1][1] is None:
            # A reply without buttons takes away any keyboard an earlier question left open.
            parts[-1] = (parts[-1][0], ReplyKeyboardRemove())
        sent = 0
        for text, keyboard in parts:

            async def call(text: str = text, keyboard: Any = keyboard) -> None:
                bot = await self._bot()
                await bot.send_message(chat_id, text, reply_markup=keyboard)

            delivered, _ = await deliver(call, channel="telegram", policy=self.policy, classify=classify)
            if not delivered:
                break
            sent += 1
        return sent
