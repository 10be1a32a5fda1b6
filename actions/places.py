"""Keep the whole place a resident gave: the street with its cross street, landmark or "near ...".

The rule-based entity finder (scripts/build_spacy.py) finds a street ("Queen St") or a corner; the words around it
("near Spadina", "outside the library on ...") are what lets a crew find the spot, so they are kept with it. When
part of a place still could not be kept, the read-back says so (`missed_detail`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Words that tie a street to the thing next to it: "Queen St near Spadina", "Elm St at the corner of Oak".
_CUES = (
    r"near|by|at|beside|next\s+to|across\s+from|opposite|in\s+front\s+of|outside|behind|close\s+to|just\s+off|"
    r"off|between|north\s+of|south\s+of|east\s+of|west\s+of|past|corner\s+of|on\s+the\s+corner\s+of"
)
# Words that end the place: the story carries on after them ("... near Spadina and it is huge").
_STOP = frozenset(
    """and but it it's its is was were has have had there which that where since for so because with this my our
    again every please today yesterday tonight now been being keeps keep who when while can could will would
    should i we they he she you right very really all night morning evening afternoon noon midnight times once
    first last least way""".split()
)
_WORD = r"[A-Za-z0-9][A-Za-z0-9'&.\-]*"
_AFTER = re.compile(rf"^\s*,?\s*(?:{_CUES})\s+(?:the\s+)?(?:{_WORD})(?:\s+{_WORD}){{0,4}}", re.IGNORECASE)
_BEFORE = re.compile(
    rf"(?:^|\b)(?:{_CUES})\s+(?:the\s+)?{_WORD}(?:\s+{_WORD}){{0,3}}\s+(?:on|at|of)\s*$", re.IGNORECASE
)
_MISSED = re.compile(
    rf"\b(?:{_CUES.replace('|by|', '|').replace('|at|', '|').replace('|off|', '|')})\s+\w", re.IGNORECASE
)


def _trim(words: str, cue_words: int) -> str:
    """Cut a trailing place phrase at the first word that carries on the story."""
    tokens = words.split()
    kept = tokens[:cue_words]
    for token in tokens[cue_words:]:
        bare = token.lower().strip(".,!?;:")
        if bare in _STOP and not (bare == "and" and "between" in (k.lower() for k in kept) and "and" not in kept):
            break
        kept.append(token.rstrip(",!?;:"))
        if token[-1:] in ",!?;:" or (token.endswith(".") and len(bare) > 3):
            break  # a comma or the end of a sentence ends the place
    return " ".join(kept)


def with_detail(text: str, start: int, end: int) -> str:
    """Return the place at text[start:end] with the cross street or landmark around it, in the resident's words."""
    place = text[start:end]
    after = _AFTER.match(text[end:])
    if after:
        phrase = after.group(0).strip().lstrip(",").strip()
        cue = re.match(rf"(?:{_CUES})\s+(?:the\s+)?", phrase, re.IGNORECASE)
        cue_words = len(cue.group(0).split()) if cue else 1
        extra = _trim(phrase, cue_words)
        if len(extra.split()) > cue_words:  # the cue and at least one word of the place
            place = f"{place} {extra}"
    before = _BEFORE.search(text[:start])
    if before:
        place = f"{before.group(0).strip()} {place}"
    return " ".join(place.split()).rstrip(".,;:!? ")


def place_in(message: dict[str, Any]) -> str | None:
    """Return the first place the message names, with its detail, or None."""
    text = message.get("text") or ""
    entities: Iterable[dict[str, Any]] = message.get("entities") or []
    for entity in entities:
        if entity.get("entity") != "location" or not entity.get("value"):
            continue
        start, end = entity.get("start"), entity.get("end")
        if isinstance(start, int) and isinstance(end, int) and text[start:end] == entity["value"]:
            return with_detail(text, start, end)
        return str(entity["value"])
    return None


def missed_detail(story: str, place: str) -> bool:
    """Say whether the story holds more about the place ("near the school") than the place that was kept."""
    if not story or not place:
        return False
    index = story.lower().find(place.lower())
    if index < 0:
        return False  # the place was given as its own answer: it is all there
    rest = story[:index] + " " + story[index + len(place) :]
    return bool(_MISSED.search(rest))
