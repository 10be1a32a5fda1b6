"""Fit the bot's replies to a medium: GSM-7 text-message segments, or a maximum message length.

A text message carries 160 GSM-7 characters, or 70 when one character falls outside GSM-7 (the whole message is
then sent as UCS-2). Longer messages travel in parts of 153 (or 67) that the phone joins again. Every part costs
the city and the resident, so replies are planned for the fewest segments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

# GSM 03.38: the basic set costs one septet a character, the extension table two (escape + character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE_SEGMENT = {"gsm7": 160, "ucs2": 70}
CONCATENATED_PART = {"gsm7": 153, "ucs2": 67}
# Twilio refuses a message body longer than this.
MAX_SMS_BODY_CHARS = 1600

# Look-alike characters that would turn a whole message into UCS-2 (halving what a segment carries).
_GSM7_LOOKALIKES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u2022": "-",
        "\t": " ",
    }
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def to_gsm7_lookalikes(text: str) -> str:
    """Return the text with typographic quotes, dashes and spaces replaced by their GSM-7 equivalents."""
    return text.translate(_GSM7_LOOKALIKES)


def encoding(text: str) -> str:
    """Return "gsm7" when every character is in GSM-7, else "ucs2"."""
    return "gsm7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "ucs2"


def units(text: str) -> int:
    """Return the message's length as the network counts it (septets for GSM-7, UTF-16 code units for UCS-2)."""
    if encoding(text) == "gsm7":
        return sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def segment_count(text: str) -> int:
    """Return how many segments one text message with this body is sent as."""
    kind, size = encoding(text), units(text)
    if size <= SINGLE_SEGMENT[kind]:
        return 1
    return math.ceil(size / CONCATENATED_PART[kind])


def fits_one_segment(text: str) -> bool:
    """Say whether the text goes as a single, unsplit text message."""
    return units(text) <= SINGLE_SEGMENT[encoding(text)]


def split_text(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Return the text in as few parts as possible, each accepted by `fits`, cut between sentences where possible.

    Sentences are packed greedily in order (which gives the fewest parts for pieces that must stay in order); a
    sentence too long for one part is cut between words, and a word too long for one part is cut where it must.
    """
    text = text.strip()
    if not text:
        return []
    if fits(text):
        return [text]
    pieces: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sentence:
            continue
        if fits(sentence):
            pieces.append(sentence)
            continue
        for word in sentence.split():
            pieces.extend(_cut_word(word, fits))
    parts: list[str] = []
    for piece in pieces:
        joined = f"{parts[-1]} {piece}" if parts else piece
        if parts and fits(joined):
            parts[-1] = joined
        else:
            parts.append(piece)
    return parts


def _cut_word(word: str, fits: Callable[[str], bool]) -> list[str]:
    """Return the word cut into the longest pieces `fits` accepts."""
    pieces: list[str] = []
    while word:
        low, high = 1, len(word)  # the longest prefix that fits lies in [low, high]
        while low < high:
            middle = (low + high + 1) // 2
            if fits(word[:middle]):
                low = middle
            else:
                high = middle - 1
        pieces.append(word[:low])
        word = word[low:]
    return pieces


def plan_sms(text: str) -> list[str]:
    """Return the text messages to send for one reply, using the fewest segments.

    Either one message (the phone joins its segments again), or several single-segment messages cut between
    sentences when that costs fewer segments: 160 characters fit in a lone segment but only 153 in each part of a
    joined message. On a tie, one message wins: it always arrives in order.
    """
    text = to_gsm7_lookalikes(text).strip()
    if not text:
        return []
    singles = split_text(text, fits_one_segment)
    if len(text) > MAX_SMS_BODY_CHARS:
        return singles
    if len(singles) < segment_count(text):
        return singles
    return [text]


def total_segments(messages: list[str]) -> int:
    """Return the segments a list of text messages costs."""
    return sum(segment_count(message) for message in messages)
