"""Build the rule-based English spaCy pipeline that finds places, phone numbers, emails and reference numbers.

No pre-trained spaCy model can be downloaded here, so this starts from `spacy.blank("en")` and adds an entity ruler
with token patterns, then saves it with `nlp.to_disk()`; Rasa's SpacyNLP loads it by path. The same rules can
redact personal details elsewhere. Run: `.venvs/bot/bin/python scripts/build_spacy.py build/spacy_rules`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List

import spacy

STREET_TYPES = [
    "st", "st.", "street", "str", "stret", "streat", "ave", "ave.", "av", "avenue", "avenu", "aveune", "rd", "rd.",
    "road", "raod", "blvd", "blvd.", "boulevard", "dr", "dr.", "drive", "cres", "crescent", "cr", "way", "lane", "ln",
    "crt", "court", "ct", "pl", "place", "cir", "circle", "terr", "terrace", "pkwy", "parkway", "gate", "gdns",
    "gardens", "sq", "square", "trail", "trl", "hwy", "highway", "line", "sideroad",
]
# Without a house number, only street types that are rarely ordinary words ("right lane", "tennis court", "the
# finish line" are not places).
BARE_STREET_TYPES = [
    "st", "st.", "street", "str", "stret", "streat", "ave", "ave.", "av", "avenue", "avenu", "aveune", "rd", "rd.",
    "road", "raod", "blvd", "blvd.", "boulevard", "dr.", "cres", "crescent", "pkwy", "parkway", "hwy", "highway",
]
DIRECTIONS = ["e", "w", "n", "s", "e.", "w.", "east", "west", "north", "south"]
# Words that come before a street type without naming a street ("my street", "the road").
NOT_NAMES = [
    "my", "the", "our", "your", "this", "that", "a", "on", "at", "in", "same", "main", "side", "every", "each",
    "whole", "entire", "next", "other", "their", "his", "her", "busy", "quiet", "residential", "dead", "one", "from",
]
CONNECTORS = ["and", "&", "at", "@", "/"]

NUMBER = {"SHAPE": {"IN": ["d", "dd", "ddd", "dddd", "ddddd"]}}
NAME = {"IS_ALPHA": True, "LOWER": {"NOT_IN": NOT_NAMES + CONNECTORS + STREET_TYPES}}
TYPE = {"LOWER": {"IN": STREET_TYPES}}
DIRECTION = {"LOWER": {"IN": DIRECTIONS}, "OP": "?"}


def patterns() -> List[Dict[str, Any]]:
    """Return the entity ruler's patterns, longest shapes first."""
    street = [NAME, {**NAME, "OP": "?"}, TYPE, DIRECTION]
    rules: List[List[Dict[str, Any]]] = [
        # 12 Elm St, 4-12 Elm Street East, 12B Elm St
        [NUMBER, {"ORTH": "-", "OP": "?"}, {**NUMBER, "OP": "?"}, {"TEXT": {"REGEX": "^[A-Za-z]$"}, "OP": "?"}, *street],
        [{"TEXT": {"REGEX": r"^\d{1,5}[A-Za-z]?$"}}, *street],
        # corner of Queen and Spadina, corner of Queen St W & Spadina Ave
        [{"LOWER": "corner"}, {"LOWER": "of"}, NAME, {**TYPE, "OP": "?"}, DIRECTION, {"LOWER": {"IN": CONNECTORS}},
         NAME, {**TYPE, "OP": "?"}, DIRECTION],
        # unit 4, 1200 Bloor St W; apt 3 12 Elm St
        [{"LOWER": {"IN": ["unit", "apt", "apartment", "suite"]}}, {"TEXT": {"REGEX": r"^\d{1,5}[A-Za-z]?$"}},
         {"ORTH": ",", "OP": "?"}, NUMBER, *street],
        # Queen St W at Spadina, queen st and spadina ave. Two capitalised words joined by "and" are too often
        # people's names ("Mike and Dave were great"), so an intersection needs a street type or "corner of".
        [NAME, {"LOWER": {"IN": BARE_STREET_TYPES}}, DIRECTION, {"LOWER": {"IN": CONNECTORS}}, NAME,
         {**TYPE, "OP": "?"}, DIRECTION],
        # Elm St, queen street west
        [NAME, {**NAME, "OP": "?"}, {"LOWER": {"IN": BARE_STREET_TYPES}}, DIRECTION],
        # Canadian postal codes: M5V 2T6 or M5V2T6
        [{"TEXT": {"REGEX": r"^[A-Za-z]\d[A-Za-z]$"}}, {"TEXT": {"REGEX": r"^\d[A-Za-z]\d$"}}],
        [{"TEXT": {"REGEX": r"^[A-Za-z]\d[A-Za-z]\d[A-Za-z]\d$"}}],
    ]
    found: List[Dict[str, Any]] = [{"label": "location", "pattern": p} for p in rules]
    found += [
        {"label": "email", "pattern": [{"LIKE_EMAIL": True}]},
        # 416-555-0123, (416) 555-0123, 416 555 0123, 4165550123, +1 416 555 0123
        {"label": "phone", "pattern": [{"TEXT": {"REGEX": r"^\+?1?\d{10}$"}}]},
        {"label": "phone", "pattern": [{"ORTH": "+1", "OP": "?"}, {"ORTH": "(", "OP": "?"}, {"SHAPE": "ddd"},
                                       {"ORTH": ")", "OP": "?"}, {"ORTH": "-", "OP": "?"}, {"SHAPE": "ddd"},
                                       {"ORTH": {"IN": ["-", "."]}, "OP": "?"}, {"SHAPE": "dddd"}]},
        {"label": "reference",
         "pattern": [{"TEXT": {"REGEX": r"^[CPScps]-?[2-9A-HJKMNP-Za-hjkmnp-z]{7}$"}}]},
    ]
    return found


def build(target: Path) -> None:
    """Create the blank English pipeline with the entity ruler and save it to target."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(patterns())
    nlp.meta["name"] = "intake_rules"
    nlp.meta["description"] = "Rule-based entities for the 311 intake assistant: places, phones, emails, references"
    nlp.to_disk(target)


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "build/spacy_rules"))
