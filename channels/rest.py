"""The REST channel (`POST /webhooks/rest/webhook`) with the checks Rasa's built-in one lacks.

It rejects malformed bodies with a clear 400 instead of a server error, limits the message size, never lets a
message be read as an intent command, and records the channel itself rather than trusting the client to name it.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.text import MAX_MESSAGE_CHARS, clean_message, is_too_long

logger = logging.getLogger(__name__)

_SENDER = re.compile(r"^[A-Za-z0-9_.:@+-]{1,128}$")
TOO_LONG_REPLY = f"That message is too long for me. Please keep it under {MAX_MESSAGE_CHARS:,} characters."


def _bad_request(detail: str) -> HTTPResponse:
    return response.json({"detail": detail}, status=400)


class ResidentRestInput(InputChannel):
    """Receive a resident's message as JSON `{"sender": ..., "message": ...}` and answer with the bot's replies."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # sanic raises its own error types for undecodable bodies
                body = None
            if not isinstance(body, dict):
                return _bad_request('Send a JSON object like {"sender": "abc123", "message": "hello"}.')
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not _SENDER.match(sender):
                return _bad_request("'sender' must be 1-128 letters, digits or _.:@+- characters.")
            if not isinstance(text, str):
                return _bad_request("'message' must be a string.")
            text = clean_message(text)
            if not text:
                return _bad_request("'message' is empty.")
            if is_too_long(text):
                return response.json([{"recipient_id": sender, "text": TOO_LONG_REPLY}], status=413)
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name())
            )
            return response.json(collector.messages)

        return webhook


