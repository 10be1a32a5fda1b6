"""The REST channel (`POST /webhooks/rest/webhook`) with the checks Rasa's built-in one lacks, and the web chat.

It rejects malformed bodies with a clear 400 instead of a server error, limits the message size and rate, never
lets a message be read as an intent command (a button's payload passes only when the bot offered that button),
and records the channel itself rather than trusting the client to name it. The web chat widget uses the same
channel under its own name (`POST /webhooks/web/webhook`), so that cases show they came from the web page.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import replies
from channels.limits import RateLimiter, Verdict, client_address
from channels.state import shared_state
from channels.turn import Incoming, Turns

logger = logging.getLogger(__name__)

# No ":" here: other channels' conversations are "sms:<number>" and "telegram:<chat>", and a REST client must
# never be able to read or continue them by naming one.
_SENDER = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")
_STATUS = {"too_long": 413, "too_fast": 429}


def _bad_request(detail: str) -> HTTPResponse:
    return response.json({"detail": detail}, status=400)


class ResidentRestInput(InputChannel):
    """Receive a resident's message as JSON `{"sender": ..., "message": ...}` and answer with the bot's replies."""

    def __init__(self, turns: Optional[Turns] = None, per_address: Optional[RateLimiter] = None) -> None:
        self.turns = turns or Turns(self.name(), shared_state(), RateLimiter.from_env(), options_by_number=False)
        # Anyone can call this webhook, with any sender id: the client's address is limited too.
        self.per_address = per_address or RateLimiter.per_address_from_env()

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
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
            return response.json(result.replies, status=_STATUS.get(result.status, 200))

        return webhook


class WebChatInput(ResidentRestInput):
    """The REST channel as the web chat widget uses it: recorded on cases as "web"."""

    @classmethod
    def name(cls) -> Text:
        return "web"
