"""The resident's other answers on the case page, in words: codes named, and relative days given their date."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from backend.catalog.schemas import Service
from backend.web.templating import answer, label

_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+")
_KEYS = {
    "when": "When",
    "outcome_wanted": "What they want the City to do",
    "linked_reference": "Earlier reference they gave",
    "staff_named": "Staff member named",
    "hear_back": "Wants to hear back",
    "division_named": "Team they named",
    "callback_requested": "Asked for a call back",
    "contact": "How to reach them",
    "service_attributes": "Answers about the service",
}
_CONTACT_FIELDS = {"method": "Method", "phone": "Phone", "email": "Email", "consent": "Agreed to be contacted"}
_METHODS = {
    "phone": "Phone",
    "email": "Email",
    "channel": "Reply on the channel they used",
    "anonymous": "No contact (anonymous)",
}
_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a": 1,
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SAME_DAY = re.compile(r"\b(?:today|tonight|this (?:morning|afternoon|evening)|earlier today)\b")
_DAY_BEFORE = re.compile(r"\b(?:the )?day before yesterday\b")
_YESTERDAY = re.compile(r"\b(?:yesterday|last night)\b")
_AGO = re.compile(r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|a) (day|week)s? ago\b")
_LAST_WEEKDAY = re.compile(r"\b(?:last|this past|on) (" + "|".join(_WEEKDAYS) + r")\b")


@dataclass(frozen=True)
class Answer:
    """One of the resident's other answers: what it is, what they said, and the date a relative day meant."""

    name: str
    text: str
    meant: date | None = None


def resolve_day(text: str, received: datetime, zone: ZoneInfo) -> date | None:
    """Return the date a simple relative day in `text` means for a case received at `received`, or None.

    Understood: today, tonight, this morning (afternoon, evening), yesterday, last night, the day before yesterday,
    N days (or weeks) ago, and last (this past, on) <weekday>, which is the latest such day before the day received.
    """
    said = " ".join(text.lower().replace("\u2019", "'").split())
    day = received.astimezone(zone).date()
    if _DAY_BEFORE.search(said):
        return day - timedelta(days=2)
    if _YESTERDAY.search(said):
        return day - timedelta(days=1)
    found = _AGO.search(said)
    if found:
        number = int(found.group(1)) if found.group(1).isdigit() else _NUMBERS[found.group(1)]
        return day - timedelta(days=number * (7 if found.group(2) == "week" else 1))
    found = _LAST_WEEKDAY.search(said)
    if found:
        back = (day.weekday() - _WEEKDAYS.index(found.group(1))) % 7 or 7
        return day - timedelta(days=back)
    if _SAME_DAY.search(said):
        return day
    return None


def _code(value: Any) -> str:
    """Return a value that looks like a code (``curb_lane``) as words, anything else as the resident gave it."""
    text = answer(value)
    return label(text) if isinstance(value, str) and _CODE.fullmatch(value) else text


def _attributes(values: Any, service: Service | None) -> list[Answer]:
    """Return answers to a service's extra questions, named by the catalog's question and value names."""
    if not isinstance(values, Mapping):
        return [Answer(_KEYS["service_attributes"], answer(values))]
    questions = {attribute.code: attribute for attribute in service.attributes} if service else {}
    found = []
    for code, value in values.items():
        attribute = questions.get(code)
        names = {item.key: item.name for item in attribute.values} if attribute else {}
        if value in (None, ""):
            continue
        shown = names.get(value) if isinstance(value, str) else None
        found.append(Answer(label(code), shown or _code(value)))
    return found


def _contact(value: Any, channel: str) -> str:
    if not isinstance(value, Mapping):
        return answer(value)
    parts = []
    for key, item in value.items():
        if key == "method" and isinstance(item, str):
            shown = _METHODS.get(item, _code(item))
            if item == "channel":
                shown += f" ({label(channel)})"
        else:
            shown = _code(item)
        parts.append(f"{_CONTACT_FIELDS.get(key, label(key))}: {shown}")
    return "; ".join(parts) or "—"


def readable(
    details: Mapping[str, Any], *, service: Service | None, channel: str, received: datetime, zone: ZoneInfo
) -> list[Answer]:
    """Return the case's other answers (`details` without attachments and the complaint's subject) in words."""
    shown: list[Answer] = []
    for key, value in details.items():
        name = _KEYS.get(key, label(key))
        if key == "service_attributes":
            shown.extend(_attributes(value, service))
        elif key == "open311" and isinstance(value, Mapping):
            rest = {k: v for k, v in value.items() if k != "attributes"}
            if rest:
                shown.append(Answer("Open311", answer(rest)))
            if value.get("attributes"):
                shown.extend(_attributes(value["attributes"], service))
        elif key == "contact":
            shown.append(Answer(name, _contact(value, channel)))
        elif key == "when" and isinstance(value, str):
            shown.append(Answer(name, value, resolve_day(value, received, zone)))
        else:
            shown.append(Answer(name, _code(value)))
    return shown
