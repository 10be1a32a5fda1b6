"""Read a correction of an earlier answer given while another question is open ("oops, I meant number 12, not 10").

The read-back already lets a resident change any part (actions/summary.py `change_target`); this lets them do it
at any question, as people do. A correction names the new and the old words, a new place, or the part to change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from actions import places
from actions.summary import FIELDS, Field, change_target

_CORRECTION = re.compile(
    r"^(?:(?:oops|oopsie|whoops|oh|sorry|wait|actually|my bad|no|hang on|correction)\b\W*)*"
    r"(?:i\s+meant(?:\s+to\s+(?:say|write|type))?|i\s+mean|it\s+should\s+(?:be|say|have\s+been)|"
    r"that\s+should\s+(?:be|say|have\s+been)|make\s+that|it'?s\s+actually|it\s+is\s+actually|"
    r"i\s+(?:typed|wrote|said|gave|put)\s+the\s+wrong)\b\W*(?P<rest>.*)$",
    re.IGNORECASE,
)
# "oops, number 12 not 10": a slip named with its fix, without "I meant".
_SLIP = re.compile(
    r"^(?:oops|oopsie|whoops|sorry|my bad|correction)\b\W*(?P<rest>.+\b(?:not|instead of)\b.+)$", re.IGNORECASE
)
# "oops, I got the address wrong": a slip named as one.
_WRONG = re.compile(
    r"^(?:oops|oopsie|whoops|sorry|my bad|wait)\b\W*(?P<rest>.*\b(?:wrong|mistake|typo|incorrect)\b.*)$", re.IGNORECASE
)
_NEW_NOT_OLD = re.compile(
    r"^(?P<new>.+?)[\s,;]+(?:not|instead\s+of|rather\s+than)\s+(?P<old>.+?)[\s.!]*$", re.IGNORECASE
)
# Only a part named as wrong is asked again: "I mean the whole street is dark" changes nothing.
_NAMES_A_MISTAKE = re.compile(r"\b(?:wrong|change|fix|mistake|typo|incorrect|not right)\b", re.IGNORECASE)
_LEAD = re.compile(r"^(?:the\s+)?(?:house\s+|street\s+|unit\s+|apt\s+)?(?:number|no\.?|#)\s*", re.IGNORECASE)


@dataclass
class Correction:
    """What a correction changes: the part of the report, the slots to set, and whether to ask for it again."""

    field: Field
    updates: dict[str, Any] = field(default_factory=dict)
    ask_again: bool = False
    new_value: str | None = None


def _clean(words: str) -> str:
    return _LEAD.sub("", words.strip(" .,!;:'\"")).strip(" .,!;:'\"")


def _replace(value: str, old: str, new: str) -> str | None:
    pattern = re.compile(rf"(?<![\w-]){re.escape(old)}(?![\w-])", re.IGNORECASE)
    return pattern.sub(new, value, count=1) if pattern.search(value) else None


def read_correction(
    text: str, slots: Mapping[str, Any], kind: str | None, entities: list[dict[str, Any]]
) -> Correction | None:
    """Return the correction the message makes to an earlier answer, or None when it is not one."""
    text = " ".join((text or "").split())
    match = _CORRECTION.match(text) or _SLIP.match(text) or _WRONG.match(text)
    if not match:
        return None
    rest = match.group("rest")
    fields = [f for f in FIELDS if kind in f.kinds]
    pair = _NEW_NOT_OLD.match(rest)
    if pair:
        new, old = _clean(pair.group("new")), _clean(pair.group("old"))
        for part in fields:
            for slot in part.slots:
                value = slots.get(slot)
                changed = _replace(value, old, new) if isinstance(value, str) and old and new else None
                if changed is None:
                    continue
                updates = {slot: changed}
                story = slots.get("description")
                if slot == "location" and isinstance(story, str):
                    # The place came from the story: the story says the corrected place too.
                    updates["description"] = _replace(story, value, changed) or story
                return Correction(part, updates, new_value=changed)
    place = places.place_in({"text": text, "entities": entities})
    place_field = next((f for f in fields if "location" in f.slots), None)
    if place and place_field is not None:
        return Correction(place_field, {"location": place}, new_value=place)
    part = change_target(rest, kind) if _NAMES_A_MISTAKE.search(rest) else None
    if part is not None:
        # "oops, the address is wrong": ask for that part again, then carry on.
        updates = {slot: None for slot in part.slots}
        updates.update({slot: "" for slot in part.rejected_guesses})
        return Correction(part, updates, ask_again=True)
    return None
