"""Reply to a resident on the channel they used: the one path by which staff text reaches a resident.

The reply goes to the Rasa server's HTTP API as an external event, ``EXTERNAL_staff_reply`` with the text in the
``staff_reply`` entity; the assistant's ``action_relay_staff_reply`` says it on the conversation's latest channel
(SMS, Telegram, web). The reply, and whether Rasa took it, is recorded on the case in the same step.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy.orm import Session

from backend.cases import workflow
from backend.cases.models import Case, CaseUpdate
from backend.config import Settings
from backend.staff.models import StaffUser

logger = logging.getLogger(__name__)

EXTERNAL_INTENT = "EXTERNAL_staff_reply"
TEXT_ENTITY = "staff_reply"
MAX_REPLY_CHARS = 1000
# Two SMS segments of GSM-7: longer replies still go, in more parts.
SMS_FRIENDLY_CHARS = 306


class ReplyError(Exception):
    """The reply cannot be sent; the message says why in plain words (nothing was recorded)."""


@dataclass(frozen=True)
class Delivery:
    """What Rasa did with a reply: pushed it on the resident's channel, or only kept it in the conversation."""

    pushed: bool
    detail: str


def _rasa_request(settings: Settings, method: str, path: str, body: dict[str, Any] | None = None, **params: str) -> Any:
    """Call Rasa's HTTP API and return the decoded JSON answer; raise ReplyError when it fails."""
    assert settings.rasa_url is not None
    # Rasa's --auth-token is read from the query string only. Nothing here logs the URL.
    query = urlencode({**params, "token": settings.rasa_token or ""})
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(
        f"{settings.rasa_url}{path}?{query}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.rasa_timeout_seconds) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        logger.error("The assistant refused a staff call to %s: HTTP %s", path.split("/")[1], exc.code)
        if exc.code in (401, 403):
            raise ReplyError(
                "The assistant refused the reply: its API token does not match INTAKE_RASA_TOKEN."
            ) from None
        raise ReplyError(f"The assistant could not take the reply (HTTP {exc.code}). Try again later.") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError) as exc:
        logger.error("The assistant did not answer a staff call: %s", type(exc).__name__)
        raise ReplyError("The assistant is not answering, so the reply was not sent. Try again later.") from None


def _conversation_path(sender_id: str, endpoint: str) -> str:
    # Rasa's web server does not percent-decode the conversation id in the path: every character a path may hold
    # stays as it is ("telegram:42", "+14165550199"), and only those that would break the URL are encoded.
    return f"/conversations/{quote(sender_id, safe=_PATH_SAFE)}/{endpoint}"


_PATH_SAFE = "/:@+!$&'()*,;="


def _check_not_mid_report(settings: Settings, sender_id: str) -> None:
    """Refuse to interrupt a resident who is in the middle of a form: their next answer must go to the form."""
    tracker = _rasa_request(settings, "GET", _conversation_path(sender_id, "tracker"), include_events="NONE")
    active = (tracker or {}).get("active_loop") or {}
    if isinstance(active, dict) and active.get("name"):
        raise ReplyError(
            "The resident is in the middle of a new report with the assistant right now. "
            "Try again in a few minutes, or contact them another way."
        )


def deliver(*, settings: Settings, sender_id: str, text: str) -> Delivery:
    """Hand `text` to Rasa for the conversation `sender_id`, on its latest channel."""
    _check_not_mid_report(settings, sender_id)
    answer = _rasa_request(
        settings,
        "POST",
        _conversation_path(sender_id, "trigger_intent"),
        {"name": EXTERNAL_INTENT, "entities": {TEXT_ENTITY: text}},
        output_channel="latest",
    )
    # Rasa answers with the messages itself when the channel cannot push (the REST channel): nobody received them.
    if isinstance(answer, dict) and "messages" in answer:
        return Delivery(pushed=False, detail="kept in the conversation; the channel cannot push messages")
    return Delivery(pushed=True, detail="sent on the resident's channel")


def compose(case: Case, text: str) -> str:
    """Return the message the resident gets: the reference, so they know what it is about, and the staff text."""
    return f"About your report {case.reference}: {text}"


def reply(*, session: Session, settings: Settings, case: Case, actor: StaffUser, text: str) -> CaseUpdate:
    """Send a reply to the resident of `case` and record it on the case (with whether it was pushed).

    Raises:
        ReplyError: replies are not configured, the text is empty or too long, the resident is mid-report, or the
            assistant refused or did not answer. Nothing is recorded then.
    """
    text = " ".join(text.split())
    if not text:
        raise ReplyError("Write the reply first.")
    if len(text) > MAX_REPLY_CHARS:
        raise ReplyError(f"Keep the reply under {MAX_REPLY_CHARS:,} characters.")
    if not settings.rasa_url:
        raise ReplyError("Replies are switched off on this server: INTAKE_RASA_URL is not set.")
    if case.channel == "open311":
        raise ReplyError("This case came from another system over Open311, not from a conversation.")
    message = compose(case, text)
    # End this request's read transaction before waiting on Rasa: Rasa writes the conversation into the same SQLite
    # file meanwhile, and a transaction that began reading before that write could not write after it.
    session.commit()
    delivery = deliver(settings=settings, sender_id=case.sender_id, text=message)
    logger.info("Staff reply on case %s: %s", case.reference, delivery.detail)
    return workflow.record_reply(session=session, case=case, actor=actor, text=message, delivered=delivery.pushed)
