"""Make a resident's raw message safe to hand to Rasa, the same way on every channel."""

from __future__ import annotations

import re
import unicodedata

MAX_MESSAGE_CHARS = 2000

# Control characters other than ordinary white space carry no meaning in a message.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Characters that look like "/" (Unicode's confusables for it, and the slashes of maths and box drawing). Rasa only
# reads an ASCII "/" as a command, but a message that shows one must not look like a command in a transcript either.
SLASHES = frozenset(
    "/"
    "\u0337\u0338\u20eb"  # combining solidus overlays, which would sit on nothing at the start
    "\u1735"  # Philippine single punctuation
    "\u2044\u2215"  # fraction slash, division slash
    "\u2571\u27cb\u29f6\u29f8\u2afb\u2afd\u2e4a"  # box drawing, rising diagonal, big, triple, double, dotted solidus
    "\u2f03\u3033\u31d3"  # Kangxi radical slash, vertical kana repeat mark, CJK stroke
    "\uff0f\U0001f67c"  # fullwidth solidus, very heavy solidus
)
# Invisible or blank at the start of a message: white space of every kind, and control and format characters
# (zero-width space and joiners, the byte order mark, direction marks, tags).
_BLANK_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def _starts_nothing(char: str) -> bool:
    return (
        char.isspace()
        or unicodedata.category(char) in _BLANK_CATEGORIES
        or char in SLASHES
        or "/" in unicodedata.normalize("NFKC", char)
    )


def clean_message(text: str) -> str:
    """Return the message normalised, without control characters, and never read as a command.

    Rasa reads a message that starts with "/" as an intent command ("/intent{...}"), which would let anyone set
    intents and slots; a resident's words are always words. So everything before the first visible character
    that is not a slash is dropped, however many slashes, look-alikes, spaces and invisible characters there are.
    """
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text))
    start = 0
    while start < len(text) and _starts_nothing(text[start]):
        start += 1
    return text[start:].strip()


def is_too_long(text: str) -> bool:
    """Say whether a message is longer than any channel accepts."""
    return len(text) > MAX_MESSAGE_CHARS
