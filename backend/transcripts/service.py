"""Read the resident and bot turns of a conversation from Rasa's tracker store (the one adapter to it)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, func, inspect, select

from backend.transcripts.schemas import Button, Role, Turn
from backend.transcripts.tables import events

logger = logging.getLogger(__name__)

SESSION_STARTED = "session_started"
_ROLES = {"user": Role.RESIDENT, "bot": Role.BOT}


def read(*, engine: Engine, sender_id: str, at: datetime) -> list[Turn]:
    """Return the turns of the conversation session of `sender_id` that was going on at `at`, in order.

    The session runs from the last ``session_started`` event at or before `at` (or the first event, when there
    is none) up to the next ``session_started`` event (or the end). An empty list is returned when Rasa has not
    created its ``events`` table yet.
    """
    if not inspect(engine).has_table(events.name):
        return []
    moment = at.timestamp()
    with engine.connect() as connection:
        of_sender = events.c.sender_id == sender_id
        session_start = events.c.type_name == SESSION_STARTED
        start_id = connection.scalar(
            select(func.max(events.c.id)).where(of_sender, session_start, events.c.timestamp <= moment)
        )
        start_id = start_id if start_id is not None else -1
        end_id = connection.scalar(
            select(func.min(events.c.id)).where(of_sender, session_start, events.c.id > start_id)
        )
        query = (
            select(events.c.id, events.c.type_name, events.c.timestamp, events.c.intent_name, events.c.data)
            .where(of_sender, events.c.type_name.in_(list(_ROLES)), events.c.id > start_id)
            .order_by(events.c.id)
        )
        if end_id is not None:
            query = query.where(events.c.id < end_id)
        rows = connection.execute(query).all()
    turns = [turn for row in rows if (turn := _turn(row.id, row.type_name, row.timestamp, row.intent_name, row.data))]
    return _name_pressed_buttons(turns)


def _name_pressed_buttons(turns: list[Turn]) -> list[Turn]:
    """Give each resident turn that is the payload of a button offered since their last turn that button's title."""
    offered: dict[str, str] = {}
    for turn in turns:
        if turn.role is Role.BOT:
            for button in turn.buttons:
                offered.setdefault(button.payload, button.title)
            continue
        if turn.text is not None and turn.text in offered:
            turn.button_title = offered[turn.text]
        offered = {}
    return turns


def _turn(
    event_id: int, type_name: str, timestamp: float | None, intent_name: str | None, data: str | None
) -> Turn | None:
    """Return the turn stored in one event row, or None when the row cannot be read."""
    try:
        event: dict[str, Any] = json.loads(data) if data else {}
        if not isinstance(event, dict):
            raise ValueError("event data is not a JSON object")
        moment = timestamp if timestamp is not None else float(event["timestamp"])
        when = datetime.fromtimestamp(moment, tz=timezone.utc)
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        # Only the event id is logged: the event holds what the resident wrote.
        logger.warning("Skipping unreadable tracker event %s", event_id)
        return None
    text = event.get("text")
    role = _ROLES[type_name]
    if role is Role.RESIDENT and _mapping(event.get("metadata")).get("is_external"):
        return None  # an external event (a staff reply being relayed), not something the resident wrote
    if role is Role.BOT:
        return Turn(
            role=role,
            text=text if isinstance(text, str) else None,
            timestamp=when,
            buttons=_buttons(_mapping(event.get("data")).get("buttons")),
        )
    intent = _mapping(_mapping(event.get("parse_data")).get("intent"))
    confidence = intent.get("confidence")
    return Turn(
        role=role,
        text=text if isinstance(text, str) else None,
        timestamp=when,
        intent=intent.get("name") if isinstance(intent.get("name"), str) else intent_name,
        confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
        attachments=_attachments(_mapping(event.get("metadata")).get("attachments")),
    )


MAX_ATTACHMENTS = 10
MAX_BUTTONS = 20


def _buttons(value: Any) -> list[Button]:
    """Return the buttons of a bot event's data: those with a string title and payload."""
    if not isinstance(value, list):
        return []
    found = []
    for item in value[:MAX_BUTTONS]:
        title, payload = _mapping(item).get("title"), _mapping(item).get("payload")
        if isinstance(title, str) and isinstance(payload, str):
            found.append(Button(title=title[:500], payload=payload[:500]))
    return found


def _attachments(value: Any) -> list[dict[str, str]]:
    """Return the attachments a channel put in a message's metadata, keeping only short string fields."""
    if not isinstance(value, list):
        return []
    found = []
    for item in value[:MAX_ATTACHMENTS]:
        fields = {str(key)[:40]: field[:2000] for key, field in _mapping(item).items() if isinstance(field, str)}
        if fields:
            found.append(fields)
    return found


def _mapping(value: Any) -> dict[str, Any]:
    """Return `value` when it is a dict, else an empty dict (tracker data is not trusted to be well formed)."""
    return value if isinstance(value, dict) else {}
