"""The REST channel (`POST /webhooks/rest/webhook`) with the checks Rasa's built-in one lacks, and the web chat.

It rejects malformed bodies with a clear 400 instead of a server error, limits the message size and rate, never
lets a message be read as an intent command (a button's payload passes only when the bot offered that button),
and records the channel itself rather than trusting the client to name it. The web chat widget uses the same
channel under its own name (`POST /webhooks/web/webhook`), so that cases show they came from the web page.

Nothing can push to a browser or a REST client, so what the assistant says outside a turn (a reference the outbox
delivered late, a staff reply, through Rasa's API with `output_channel=latest`) is kept in the conversation's
mailbox (channels/state.py) and handed over once: `POST /webhooks/web/pending` (or `/webhooks/rest/pending`) with
`{"sender": ...}` returns it, as the widget does when it loads and while it is open, and the replies to the
resident's next message start with it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import replies
from channels.limits import RateLimiter, Verdict, client_address
from channels.state import shared_state
from channels.turn import Incoming, MailboxOutput, Turns

logger = logging.getLogger(__name__)

# No ":" here: other channels' conversations are "sms:<number>" and "telegram:<chat>", and a REST client must
# never be able to read or continue them by naming one.
_SENDER = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")
_STATUS = {"too_long": 413, "too_fast": 429}


def _bad_request(detail: str) -> HTTPResponse:
    return response.json({"detail": detail}, status=400)


class ResidentRestInput(InputChannel):
    """Receive a resident's message as JSON `{"sender": ..., "message": ...}` and answer with the bot's replies."""

    def __init__(self, turns: Turns | None = None, per_address: RateLimiter | None = None) -> None:
        self.turns = turns or Turns(self.name(), shared_state(), RateLimiter.from_env(), options_by_number=False)
        # Anyone can call this webhook, with any sender id: the client's address is limited too.
        self.per_address = per_address or RateLimiter.per_address_from_env()
        # Fetching kept messages is limited apart, so that a widget's polls never use up a resident's messages.
        self.per_address_polls = RateLimiter.from_env("INTAKE_RATE_LIMIT_POLLS_PER_IP_PER_MINUTE", 120)

    def get_output_channel(self) -> OutputChannel | None:
        return MailboxOutput(self, self.turns.state)

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.per_address.check(client_address(request)) is not Verdict.ALLOW:
                return response.json([{"text": replies.TOO_FAST}], status=429)
            try:
                body = request.json
            except Exception:  # sanic raises its own error types for undecodable bodies
                body = None
            if not isinstance(body, dict):
                return _bad_request('Send a JSON object like {"sender": "abc123", "message": "hello"}.')
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not _SENDER.match(sender):
                return _bad_request("'sender' must be 1-128 letters, digits or _.@+- characters.")
            if not isinstance(text, str):
                return _bad_request("'message' must be a string.")
            result = await self.turns.handle(Incoming(sender_id=sender, text=text), on_new_message)
            if result.status == "no_words":
                return _bad_request("'message' is empty.")
            kept = await self.turns.state.take_kept(sender) if result.status == "answered" else []
            return response.json(kept + result.replies, status=_STATUS.get(result.status, 200))

        @webhook.route("/pending", methods=["POST"])
        async def pending(request: Request) -> HTTPResponse:
            if self.per_address_polls.check(client_address(request)) is not Verdict.ALLOW:
                return response.json([], status=429)
            try:
                body = request.json
            except Exception:  # sanic raises its own error types for undecodable bodies
                body = None
            sender = body.get("sender") if isinstance(body, dict) else None
            if not isinstance(sender, str) or not _SENDER.match(sender):
                return _bad_request('Send a JSON object like {"sender": "abc123"}.')
            return response.json(await self.turns.state.take_kept(sender))

        return webhook


class WebChatInput(ResidentRestInput):
    """The REST channel as the web chat widget uses it: recorded on cases as "web"."""

    @classmethod
    def name(cls) -> str:
        return "web"
