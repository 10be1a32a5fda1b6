"""Send text messages through Twilio's Messages API without blocking the event loop, and never to an opted-out number.

It uses the twilio library's asynchronous client (aiohttp underneath); `INTAKE_TWILIO_API_URL` points it at another
address of the same API (the tests' local stand-in). A reply is planned into the fewest segments first
(channels/segments.py); each message is retried with growing pauses when Twilio is busy or unreachable.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from channels.delivery import Failure, RetryPolicy, deliver
from channels.segments import plan_sms
from channels.state import ChannelState

logger = logging.getLogger(__name__)

# Twilio's error for a recipient who texted STOP to our number: Twilio blocks every message to them.
UNSUBSCRIBED_RECIPIENT = 21610
SEND_TIMEOUT_SECONDS = 15.0

# The twilio library logs each request's URL and headers at INFO; that belongs in debugging, not in our logs.
_quiet_twilio_logger = logging.getLogger(f"{__name__}.http")
_quiet_twilio_logger.setLevel(logging.WARNING)


@dataclass(frozen=True)
class TwilioAccount:
    """The credentials and API address the sender uses."""

    account_sid: str
    auth_token: str
    api_url: str | None = None  # default: Twilio's own, https://api.twilio.com


def classify(error: BaseException) -> Failure:
    """Say what a failed send means, without the number or the words (Twilio's messages may hold both)."""
    if isinstance(error, TwilioRestException):
        cause = f"Twilio answered HTTP {error.status} (error code {error.code})"
        return Failure(cause, retry=error.status == 429 or error.status >= 500, code=error.code)
    if isinstance(error, (aiohttp.ClientError, asyncio.TimeoutError, OSError)):
        return Failure(f"Twilio unreachable ({type(error).__name__})", retry=True)
    return Failure(f"unexpected {type(error).__name__}", retry=False)


class TwilioSender:
    """Send one reply as the fewest text messages, checking the opt-out list before each one."""

    def __init__(self, account: TwilioAccount, state: ChannelState, policy: RetryPolicy | None = None) -> None:
        self.account = account
        self.state = state
        self.policy = policy or RetryPolicy()
        self._client: Client | None = None

    def _twilio(self) -> Client:
        # Created on first use, inside the running event loop that its aiohttp session belongs to.
        if self._client is None:
            http = AsyncTwilioHttpClient(logger=_quiet_twilio_logger)
            self._client = Client(self.account.account_sid, self.account.auth_token, http_client=http)
            if self.account.api_url:
                self._client.api.base_url = self.account.api_url.rstrip("/")
        return self._client

    async def send(self, *, sender_id: str, to: str, from_: str, text: str, confirming_opt_out: bool = False) -> int:
        """Send `text` to `to` and return how many messages Twilio accepted.

        Nothing is sent while `sender_id` is opted out, except (with `confirming_opt_out`) the single message that
        confirms the opt-out itself, as carriers expect.
        """
        sent = 0
        for body in plan_sms(text):
            if not confirming_opt_out and await self.state.is_opted_out(sender_id):
                logger.info("sms reply withheld: the recipient has opted out")
                return sent
            messages = self._twilio().messages

            async def create(body: str = body, messages: Any = messages) -> None:
                await asyncio.wait_for(messages.create_async(to=to, from_=from_, body=body), SEND_TIMEOUT_SECONDS)

            delivered, failure = await deliver(create, channel="sms", policy=self.policy, classify=classify)
            if delivered:
                sent += 1
                continue
            if failure is not None and failure.code == UNSUBSCRIBED_RECIPIENT:
                # Twilio knows of a STOP we missed (e.g. sent to another of the city's numbers): keep in step.
                await self.state.opt_out(sender_id)
            return sent
        return sent

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._client is not None:
            http = self._client.http_client
            if isinstance(http, AsyncTwilioHttpClient):
                await http.close()
            self._client = None
