"""A local stand-in for Twilio: its Messages API (what the channel sends) and its webhook requests (what it gets).

`TwilioStandIn` answers `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` as Twilio does (HTTP basic auth
with the account SID and auth token, form fields To / From / Body, a 201 with the message resource, Twilio's
error JSON otherwise) and records every message it accepted. `signed_twilio_post` sends an inbound message to a
webhook the way Twilio does: the same form fields, signed with the library's own `RequestValidator`.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from email.utils import formatdate
from typing import Any

from twilio.request_validator import RequestValidator

from stand_ins.http_stand_in import Reply, StandInServer

MAX_BODY_CHARS = 1600


def _error(status: int, code: int, message: str) -> Reply:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class TwilioStandIn(StandInServer):
    """Twilio's Messages API on a local port: records accepted messages, can be told to fail."""

    def __init__(self, account_sid: str | None = None, auth_token: str | None = None) -> None:
        super().__init__()
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.messages: list[dict[str, str]] = []
        self.arrived = 0  # requests received, answered or not
        self.attempts = 0  # requests answered
        self.unsubscribed: set[str] = set()  # numbers that texted STOP to Twilio itself
        self._failures: list[tuple[int, int]] = []
        self._open = threading.Event()
        self._open.set()

    def hold(self) -> None:
        """Keep every send request waiting (unanswered) until `release`."""
        self._open.clear()

    def release(self) -> None:
        """Answer the send requests kept waiting, and the ones after."""
        self._open.set()

    def fail_next(self, status: int, code: int = 20500, times: int = 1) -> None:
        """Answer the next `times` send requests with this HTTP status and Twilio error code."""
        with self.lock:
            self._failures.extend([(status, code)] * times)

    def sent_to(self, number: str) -> list[str]:
        """Return the bodies accepted for `number`, in order."""
        with self.lock:
            return [m["Body"] for m in self.messages if m["To"] == number]

    def wait_for_messages(self, number: str, count: int, timeout: float = 60.0) -> list[str]:
        """Wait until `count` messages were accepted for `number` in all; return them all."""
        self.wait_until(lambda: len([m for m in self.messages if m["To"] == number]) >= count, timeout)
        return self.sent_to(number)

    def handle(self, method: str, path: str, headers: Any, body: Any) -> Reply:
        with self.lock:
            self.arrived += 1
            self.lock.notify_all()
        self._open.wait(timeout=120)
        with self.lock:
            self.attempts += 1
            reply = self._handle(method, path, headers, body)
            self.lock.notify_all()
            return reply

    def _handle(self, method: str, path: str, headers: Any, form: Any) -> Reply:
        expected = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if method != "POST" or path != expected:
            return _error(404, 20404, "The requested resource was not found")
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if headers.get("Authorization") != f"Basic {credentials}":
            return _error(401, 20003, "Authenticate")
        if self._failures:
            status, code = self._failures.pop(0)
            return _error(status, code, "Failure requested by the test")
        to, sender, text = form.get("To"), form.get("From"), form.get("Body")
        if not to or not (sender or form.get("MessagingServiceSid")):
            return _error(400, 21604, "A 'To' and a 'From' phone number are required.")
        if not text:
            return _error(400, 21602, "Message body is required.")
        if len(text) > MAX_BODY_CHARS:
            return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in self.unsubscribed:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = "SM" + secrets.token_hex(16)
        self.messages.append({"To": to, "From": sender or "", "Body": text, "Sid": sid})
        now = formatdate(time.time(), usegmt=True)
        return 201, {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": sender,
            "body": text,
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "num_media": "0",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "price": None,
            "error_code": None,
            "uri": f"{expected[:-5]}/{sid}.json",
        }


def twilio_webhook_params(
    *, account_sid: str, sender: str, to: str, body: str, media: Sequence[tuple[str, str]] = ()
) -> dict[str, str]:
    """Return the form fields Twilio posts to a messaging webhook for one incoming SMS (or MMS)."""
    sid = "SM" + secrets.token_hex(16)
    params = {
        "ToCountry": "CA",
        "ToState": "ON",
        "SmsMessageSid": sid,
        "NumMedia": str(len(media)),
        "ToCity": "TORONTO",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "ON",
        "SmsStatus": "received",
        "FromCity": "TORONTO",
        "Body": body,
        "FromCountry": "CA",
        "To": to,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    for index, (url, content_type) in enumerate(media):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = content_type
    return params


def signed_twilio_post(
    url: str,
    params: dict[str, str],
    auth_token: str,
    *,
    signed_url: str | None = None,
    signature: str | None = None,
) -> tuple[int, str]:
    """POST the form to `url` as Twilio does, signed for `signed_url` (default `url`); return (status, body).

    `signature` replaces the computed one (pass "" to send none at all).
    """
    if signature is None:
        signature = RequestValidator(auth_token).compute_signature(signed_url or url, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1"}
    if signature:
        headers["X-Twilio-Signature"] = signature
    request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
