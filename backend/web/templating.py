"""Render the staff pages with Jinja2: autoescaping on for every template, so resident text is always shown as text."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

_LABELS = {
    "service_request": "Service request",
    "in_progress": "In progress",
    "division_reviewer": "Division reviewer",
    "corrective_action": "Corrective action",
    "preventive_action": "Preventive action",
    "in_person": "In person",
    "sms": "SMS",
    "rest": "Web chat (REST)",
    "open311": "Open311",
    "nlu_fallback": "not understood (fallback)",
}


def label(value: Any) -> str:
    """Return an enum value or code as words: ``service_request`` -> ``Service request``."""
    if value is None:
        return ""
    text = value.value if isinstance(value, Enum) else str(value)
    return _LABELS.get(text, text.replace("_", " ").capitalize())


def answer(value: Any) -> str:
    """Return one of the resident's other answers as words: mappings as "name: value" pairs, lists joined."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        return "; ".join(f"{label(key)}: {answer(item)}" for key, item in value.items()) or "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(answer(item) for item in value) or "—"
    return "—" if value is None else str(value)


def duration(days: float | None) -> str:
    """Return a duration given in days as people say it: ``40 minutes``, ``5.5 hours``, ``3.2 days``."""
    if days is None:
        return "—"
    minutes = days * 24 * 60
    if minutes < 1:
        return "under a minute"
    if minutes < 59.5:
        return f"{minutes:.0f} minute{'s' if round(minutes) != 1 else ''}"
    hours = minutes / 60
    if hours < 23.95:
        shown = f"{hours:.1f}".removesuffix(".0")
        return f"{shown} hour{'s' if shown != '1' else ''}"
    shown = f"{days:.1f}".removesuffix(".0")
    return f"{shown} day{'s' if shown != '1' else ''}"


def make_environment() -> Environment:
    """Return the Jinja2 environment of the staff pages."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its name: resident text must never become markup
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["label"] = label
    environment.filters["answer"] = answer
    environment.filters["duration"] = duration
    return environment


_environment = make_environment()


def local_time(moment: datetime | None, zone: ZoneInfo, *, with_time: bool = True) -> str:
    """Return `moment` in the City's time zone as people read it: ``Mon 24 Nov 2026, 14:05``."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    text = f"{local:%a} {local.day} {local:%b %Y}"
    return f"{text}, {local:%H:%M}" if with_time else text


def render(request: Request, template: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """Render `template` with `context` plus what every page uses, and return it as HTML."""
    levels = request.app.state.service_levels
    zone: ZoneInfo = levels.zone

    def when(moment: datetime | None, with_time: bool = True) -> str:
        return local_time(moment, zone, with_time=with_time)

    def short_when(moment: datetime | None, with_time: bool = True) -> str:
        """Return `moment` briefly, for lists: ``24 Nov 14:05`` (the year only when it is not this year's)."""
        if moment is None:
            return ""
        local = moment.astimezone(zone)
        this_year = datetime.now(zone).year
        text = f"{local.day} {local:%b}" + ("" if local.year == this_year else f" {local.year}")
        return f"{text} {local:%H:%M}" if with_time else text

    def day(value: date | None) -> str:
        return f"{value:%a} {value.day} {value:%b %Y}" if value else ""

    page = _environment.get_template(template).render(
        {
            "request": request,
            "when": when,
            "short_when": short_when,
            "day": day,
            "staff": None,
            "section": "",
            "catalog": request.app.state.catalog,
            **context,
        }
    )
    return HTMLResponse(page, status_code=status_code)
