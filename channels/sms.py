"""The text-message channel (`POST /webhooks/sms/webhook`): Twilio calls it for every SMS a resident sends.

- Every request must carry a valid `X-Twilio-Signature` for the public URL Twilio calls
  (`INTAKE_TWILIO_WEBHOOK_URL`, since a proxy changes the URL this server sees); anything else gets 403 and never
  reaches Rasa.
- Carrier keywords are answered here, before Rasa, when the whole message is that one word (any case, with or
  without a full stop): STOP, STOPALL, UNSUBSCRIBE, END, QUIT, CANCEL, ARRET opt out; START, UNSTOP (and YES
  from an opted-out number) opt back in; HELP, INFO get a short help text. "cancel report", "never mind" or "stop
  this" are words, not keywords: they go to Rasa, which cancels the report in progress.
- Opted-out numbers get nothing more (only the one message confirming the opt-out); what they still send is kept
  in the conversation, unanswered.
- Buttons become numbered options ("Reply 1 for Yes or 2 for No.") and a number picks one; a photo sent alone is
  kept for the resident's next message (which carries it to the case) and the resident is asked for words.
- Messages outside a turn (a staff reply through Rasa's API with `output_channel=latest`) go out the same way,
  from the number the resident last texted.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from channels import replies
from channels.limits import RateLimiter, Verdict, client_address
from channels.options import numbered_prompt, options_from_buttons
from channels.state import ChannelState, shared_state
from channels.turn import Incoming, PushOutput, Turns
from channels.twilio_sender import TwilioAccount, TwilioSender

logger = logging.getLogger(__name__)

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "ARRET"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
_ONE_WORD = re.compile(r"^\s*([^\W\d_]+)\s*[.!]*\s*$")
MAX_MEDIA = 10  # Twilio delivers at most ten media items with one message


@dataclass(frozen=True)
class SmsSettings:
    """The channel's configuration, from environment variables."""

    account_sid: str | None = None
    auth_token: str | None = None
    webhook_url: str | None = None
    api_url: str | None = None

    @classmethod
    def from_env(cls) -> SmsSettings:
        """Read INTAKE_TWILIO_ACCOUNT_SID, _AUTH_TOKEN, _WEBHOOK_URL and _API_URL."""
        get = lambda name: (os.environ.get(f"INTAKE_TWILIO_{name}") or "").strip() or None  # noqa: E731
        return cls(get("ACCOUNT_SID"), get("AUTH_TOKEN"), get("WEBHOOK_URL"), get("API_URL"))

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token)


def carrier_keyword(body: str) -> str | None:
    """Return the carrier keyword the message consists of (upper case, accents removed), or None."""
    match = _ONE_WORD.match(body or "")
    if not match:
        return None
    word = unicodedata.normalize("NFKD", match.group(1)).encode("ascii", "ignore").decode().upper()
    return word if word in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | HELP_KEYWORDS else None


def sms_text(messages: list[dict[str, Any]]) -> str:
    """Return one turn's replies as the text of a text message, buttons as numbered options."""
    lines = []
    for message in messages:
        if message.get("text"):
            lines.append(message["text"].strip())
        options = options_from_buttons(message.get("buttons"))
        if options:
            lines.append(numbered_prompt(options))
        for key in ("image", "attachment"):
            if isinstance(message.get(key), str):
                lines.append(message[key])
    return "\n".join(line for line in lines if line)


def twilio_form(request: Request) -> RequestParameters:
    """Return the request's form fields, blank ones included: Twilio signs those too (e.g. "FromZip=")."""
    if (request.content_type or "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return RequestParameters()
    return RequestParameters(parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True))


def _attachments(form: Any) -> list[dict[str, str]]:
    try:
        count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    found = []
    for index in range(count):
        url = form.get(f"MediaUrl{index}")
        if url:
            found.append({"url": url, "content_type": form.get(f"MediaContentType{index}") or ""})
    return found


class SmsInput(InputChannel):
    """Receive residents' text messages from Twilio and answer through Twilio's Messages API."""

    def __init__(
        self,
        settings: SmsSettings,
        state: ChannelState | None = None,
        limiter: RateLimiter | None = None,
        sender: TwilioSender | None = None,
    ) -> None:
        self.settings = settings
        self.state = state or shared_state()
        self.turns = Turns(self.name(), self.state, limiter or RateLimiter.from_env(), options_by_number=True)
        self.sender = sender or TwilioSender(
            TwilioAccount(settings.account_sid or "", settings.auth_token or "", settings.api_url), self.state
        )
        self.validator = RequestValidator(settings.auth_token) if settings.auth_token else None
        self.refused = RateLimiter.per_address_from_env()
        if not settings.configured:
            logger.warning("the sms channel refuses every request: set INTAKE_TWILIO_ACCOUNT_SID and _AUTH_TOKEN")
        elif not settings.webhook_url:
            logger.warning(
                "INTAKE_TWILIO_WEBHOOK_URL is not set: signatures are checked against the URL this "
                "server sees, which is wrong behind a proxy"
            )

    @classmethod
    def name(cls) -> str:
        return "sms"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(SmsSettings.from_env())

    def get_output_channel(self) -> OutputChannel | None:
        return PushOutput(self)

    def is_signed(self, request: Request, form: RequestParameters) -> bool:
        """Say whether the request carries Twilio's signature of its URL and form fields."""
        signature = request.headers.get("X-Twilio-Signature")
        if self.validator is None or not signature:
            return False
        url = self.settings.webhook_url or request.url
        return bool(self.validator.validate(url, form, signature))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.sender.close()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings.configured else "not configured"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                return response.text("The text message channel is not configured.", status=503)
            form = twilio_form(request)
            if not self.is_signed(request, form):
                # Twilio's own requests are limited per resident; a client sending unsigned ones, per address.
                if self.refused.check(client_address(request)) is not Verdict.ALLOW:
                    return response.text("Too many requests", status=429)
                logger.warning("sms webhook refused a request without a valid Twilio signature")
                return response.text("Forbidden", status=403)
            number, ours = form.get("From"), form.get("To")
            if not number or not ours:
                return response.text("From and To are required.", status=400)
            message_sid = form.get("MessageSid")
            if not message_sid or await self.state.first_delivery(f"sms:{message_sid}"):
                await self.handle(number, ours, form, on_new_message)
            return response.text(str(MessagingResponse()), content_type="text/xml")

        return webhook

    async def handle(
        self, number: str, ours: str, form: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Answer one signed text message: a carrier keyword here, anything else through Rasa."""
        sender_id = f"sms:{number}"
        body = form.get("Body") or ""
        await self.state.remember_reply_address(sender_id, ours)

        async def send(text: str, **options: Any) -> None:
            await self.sender.send(sender_id=sender_id, to=number, from_=ours, text=text, **options)

        if await self.answer_keyword(sender_id, body, bool(form.get("OptOutType")), send):
            return
        result = await self.turns.handle(
            Incoming(sender_id=sender_id, text=body, attachments=tuple(_attachments(form))), on_new_message
        )
        text = sms_text(result.replies)
        if text:
            await send(text)

    async def answer_keyword(
        self, sender_id: str, body: str, twilio_answered: bool, send: Callable[..., Awaitable[None]]
    ) -> bool:
        """Handle a carrier keyword and return True, or return False when the message is not one.

        With Twilio's Advanced Opt-Out, Twilio answers keywords itself (and says so with `OptOutType`): the
        opt-out list is still kept here, but no second answer is sent.
        """
        keyword = carrier_keyword(body)
        opted_out = await self.state.is_opted_out(sender_id)
        if keyword is None or (keyword == "YES" and not opted_out):
            return False  # "yes" is an ordinary answer in a conversation
        answer = self.turns.limiter.check(sender_id) is Verdict.ALLOW and not twilio_answered
        if keyword in OPT_OUT_KEYWORDS:
            await self.state.opt_out(sender_id)
            logger.info("an sms sender opted out")
            if answer:
                await send(replies.SMS_OPTED_OUT, confirming_opt_out=True)
        elif keyword in OPT_IN_KEYWORDS:
            await self.state.opt_in(sender_id)
            if opted_out:
                logger.info("an sms sender opted back in")
            if answer:
                await send(replies.SMS_OPTED_IN)
        elif answer:
            await send(replies.SMS_HELP)
        return True

    async def push(self, recipient_id: str, messages: list[dict[str, Any]]) -> int:
        """Send bot messages outside a resident's turn; return how many text messages went out."""
        number = recipient_id[len("sms:") :] if recipient_id.startswith("sms:") else ""
        ours = await self.state.reply_address(recipient_id) if number else None
        if not ours:
            logger.warning("sms message not sent: the recipient has no text conversation with the city")
            return 0
        offered = [options_from_buttons(m.get("buttons")) for m in messages]
        if any(offered):
            await self.state.offer_options(recipient_id, next(o for o in reversed(offered) if o))
        return await self.sender.send(sender_id=recipient_id, to=number, from_=ours, text=sms_text(messages))
