"""Make a resident's raw message safe to hand to Rasa, the same way on every channel."""

from __future__ import annotations

import re
import unicodedata

MAX_MESSAGE_CHARS = 2000

# Control characters other than ordinary white space carry no meaning in a message.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_message(text: str) -> str:
    """Return the message normalised, without control characters, and never read as a command.

    Rasa reads a message that starts with "/" as an intent command ("/intent{...}"), which would let anyone set
    intents and slots; a resident's words are always words, so leading slashes are dropped.
    """
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text).strip()
    return text.lstrip("/").strip()


def is_too_long(text: str) -> bool:
    """Say whether a message is longer than any channel accepts."""
    return len(text) > MAX_MESSAGE_CHARS
