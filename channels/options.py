"""Buttons on channels without buttons: numbered options in the text, and picking one by number or title."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from channels.state import Option

_NUMBER = re.compile(r"^#?\s*(\d{1,2})\s*[.)]?$")


def options_from_buttons(buttons: Sequence[dict[str, Any]] | None) -> list[Option]:
    """Return the options of Rasa's buttons (title shown, payload sent), skipping malformed ones."""
    options = []
    for button in buttons or []:
        title, payload = button.get("title"), button.get("payload")
        if isinstance(title, str) and title.strip() and isinstance(payload, str) and payload.strip():
            options.append(Option(title.strip(), payload.strip()))
    return options


def numbered_prompt(options: Sequence[Option]) -> str:
    """Return the line that offers the options by number, e.g. "Reply 1 for Yes or 2 for No."."""
    choices = [f"{number} for {option.title}" for number, option in enumerate(options, start=1)]
    if len(choices) == 1:
        return f"Reply {choices[0]}."
    return f"Reply {', '.join(choices[:-1])} or {choices[-1]}."


def _plain(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .!")


def chosen_payload(text: str, options: Sequence[Option], *, by_number: bool) -> str | None:
    """Return the payload of the option the resident picked, or None when the message picks none.

    A title (any case) or the payload itself picks an option on every channel; a bare number ("2", "#2", "2.")
    only where the options were offered by number.
    """
    if not options:
        return None
    said = _plain(text)
    for option in options:
        if said == _plain(option.title) or text.strip() == option.payload:
            return option.payload
    match = _NUMBER.match(text.strip()) if by_number else None
    if match and 1 <= int(match.group(1)) <= len(options):
        return options[int(match.group(1)) - 1].payload
    return None
