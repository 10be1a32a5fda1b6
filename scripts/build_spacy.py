"""Build the rule-based English spaCy pipeline that finds places, dates and times, staff named with their title,
phone numbers, emails and reference numbers.

No pre-trained spaCy model can be downloaded here, so this starts from `spacy.blank("en")` and adds an entity ruler
with token patterns, then saves it with `nlp.to_disk()`; Rasa's SpacyNLP loads it by path. The same rules can
redact personal details elsewhere. Run: `.venvs/bot/bin/python scripts/build_spacy.py build/spacy_rules`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import spacy

STREET_TYPES = [
    "st",
    "st.",
    "street",
    "str",
    "stret",
    "streat",
    "ave",
    "ave.",
    "av",
    "avenue",
    "avenu",
    "aveune",
    "rd",
    "rd.",
    "road",
    "raod",
    "blvd",
    "blvd.",
    "boulevard",
    "dr",
    "dr.",
    "drive",
    "cres",
    "crescent",
    "cr",
    "way",
    "lane",
    "ln",
    "crt",
    "court",
    "ct",
    "pl",
    "place",
    "cir",
    "circle",
    "terr",
    "terrace",
    "pkwy",
    "parkway",
    "gate",
    "gdns",
    "gardens",
    "sq",
    "square",
    "trail",
    "trl",
    "hwy",
    "highway",
    "line",
    "sideroad",
]
# Without a house number, only street types that are rarely ordinary words ("right lane", "tennis court", "the
# finish line" are not places).
BARE_STREET_TYPES = [
    "st",
    "st.",
    "street",
    "str",
    "stret",
    "streat",
    "ave",
    "ave.",
    "av",
    "avenue",
    "avenu",
    "aveune",
    "rd",
    "rd.",
    "road",
    "raod",
    "blvd",
    "blvd.",
    "boulevard",
    "dr.",
    "cres",
    "crescent",
    "pkwy",
    "parkway",
    "hwy",
    "highway",
]
DIRECTIONS = ["e", "w", "n", "s", "e.", "w.", "east", "west", "north", "south"]
# Words that come before a street type without naming a street ("my street", "the road").
NOT_NAMES = [
    "my",
    "the",
    "our",
    "your",
    "this",
    "that",
    "a",
    "on",
    "at",
    "in",
    "same",
    "main",
    "side",
    "every",
    "each",
    "whole",
    "entire",
    "next",
    "other",
    "their",
    "his",
    "her",
    "busy",
    "quiet",
    "residential",
    "dead",
    "one",
    "from",
]
CONNECTORS = ["and", "&", "at", "@", "/"]

# Landmarks named in title case: "High Park", "Union Station", "Scadding Court Community Centre".
LANDMARK_TYPES = [
    "park",
    "station",
    "square",
    "library",
    "centre",
    "center",
    "arena",
    "pool",
    "school",
    "hospital",
    "mall",
    "beach",
    "stadium",
    "hall",
    "market",
    "island",
    "rink",
    "playground",
    "ravine",
    "pier",
    "terminal",
    "loop",
]
# Dates and times. "May", "sat" and "sun" are ordinary words too: they count only beside a number or "last"/"this".
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "weekday", "weekend"]
PARTS_OF_DAY = ["morning", "afternoon", "evening", "night", "overnight"]
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
]
SAFE_MONTHS = [m for m in MONTHS if m not in ("may", "mar", "jan", "jun", "dec")]  # "mar" and others are words too
UNITS = ["minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years"]
DAY_NUMBER = {"TEXT": {"REGEX": r"^(0?[1-9]|[12]\d|3[01])(st|nd|rd|th)?$"}}
# Staff named with their role or title in a compliment: "Officer Patel", "driver Maria", "Ms. Okafor".
TITLES = [
    "officer",
    "constable",
    "const.",
    "sergeant",
    "sgt",
    "sgt.",
    "inspector",
    "driver",
    "operator",
    "supervisor",
    "mr",
    "mr.",
    "mrs",
    "mrs.",
    "ms",
    "ms.",
    "miss",
    "dr",
    "captain",
    "capt",
    "capt.",
    "chief",
    "firefighter",
    "paramedic",
    "nurse",
    "librarian",
    "lifeguard",
    "coach",
    "instructor",
    "agent",
    "clerk",
    "technician",
]
NOT_PERSON = ["and", "the", "was", "is", "were", "at", "on", "in", "from", "who", "with", "for", "to", "of", "today"]
PERSON_NAME = {"IS_TITLE": True, "IS_ALPHA": True, "LOWER": {"NOT_IN": NOT_PERSON + DAYS + MONTHS}}

NUMBER = {"SHAPE": {"IN": ["d", "dd", "ddd", "dddd", "ddddd"]}}
NAME = {"IS_ALPHA": True, "LOWER": {"NOT_IN": NOT_NAMES + CONNECTORS + STREET_TYPES}}
TYPE = {"LOWER": {"IN": STREET_TYPES}}
DIRECTION = {"LOWER": {"IN": DIRECTIONS}, "OP": "?"}
LANDMARK_NAME = {"IS_TITLE": True, "IS_ALPHA": True, "LOWER": {"NOT_IN": NOT_NAMES + CONNECTORS}}


def patterns() -> list[dict[str, Any]]:
    """Return the entity ruler's patterns, longest shapes first."""
    street = [NAME, {**NAME, "OP": "?"}, TYPE, DIRECTION]
    rules: list[list[dict[str, Any]]] = [
        # 12 Elm St, 4-12 Elm Street East, 12B Elm St
        [
            NUMBER,
            {"ORTH": "-", "OP": "?"},
            {**NUMBER, "OP": "?"},
            {"TEXT": {"REGEX": "^[A-Za-z]$"}, "OP": "?"},
            *street,
        ],
        [{"TEXT": {"REGEX": r"^\d{1,5}[A-Za-z]?$"}}, *street],
        # corner of Queen and Spadina, corner of Queen St W & Spadina Ave
        [
            {"LOWER": "corner"},
            {"LOWER": "of"},
            NAME,
            {**TYPE, "OP": "?"},
            DIRECTION,
            {"LOWER": {"IN": CONNECTORS}},
            NAME,
            {**TYPE, "OP": "?"},
            DIRECTION,
        ],
        # unit 4, 1200 Bloor St W; apt 3 12 Elm St
        [
            {"LOWER": {"IN": ["unit", "apt", "apartment", "suite"]}},
            {"TEXT": {"REGEX": r"^\d{1,5}[A-Za-z]?$"}},
            {"ORTH": ",", "OP": "?"},
            NUMBER,
            *street,
        ],
        # Queen St W at Spadina, queen st and spadina ave. Two capitalised words joined by "and" are too often
        # people's names ("Mike and Dave were great"), so an intersection needs a street type or "corner of".
        [
            NAME,
            {"LOWER": {"IN": BARE_STREET_TYPES}},
            DIRECTION,
            {"LOWER": {"IN": CONNECTORS}},
            NAME,
            {**TYPE, "OP": "?"},
            DIRECTION,
        ],
        # Elm St, queen street west
        [NAME, {**NAME, "OP": "?"}, {"LOWER": {"IN": BARE_STREET_TYPES}}, DIRECTION],
        # High Park, Nathan Phillips Square, Scadding Court Community Centre (title case only: "the park" is not one)
        [LANDMARK_NAME, {**LANDMARK_NAME, "OP": "*"}, {"LOWER": {"IN": LANDMARK_TYPES}, "IS_TITLE": True}, DIRECTION],
        # Canadian postal codes: M5V 2T6 or M5V2T6
        [{"TEXT": {"REGEX": r"^[A-Za-z]\d[A-Za-z]$"}}, {"TEXT": {"REGEX": r"^\d[A-Za-z]\d$"}}],
        [{"TEXT": {"REGEX": r"^[A-Za-z]\d[A-Za-z]\d[A-Za-z]\d$"}}],
    ]
    found: list[dict[str, Any]] = [{"label": "location", "pattern": p} for p in rules]
    found += [{"label": "date_time", "pattern": p} for p in date_time_rules()]
    found += [
        {"label": "person", "pattern": [{"LOWER": {"IN": TITLES}}, PERSON_NAME, {**PERSON_NAME, "OP": "?"}]},
        {"label": "email", "pattern": [{"LIKE_EMAIL": True}]},
        # 416-555-0123, (416) 555-0123, 416 555 0123, 4165550123, +1 416 555 0123
        {"label": "phone", "pattern": [{"TEXT": {"REGEX": r"^\+?1?\d{10}$"}}]},
        {
            "label": "phone",
            "pattern": [
                {"ORTH": "+1", "OP": "?"},
                {"ORTH": "(", "OP": "?"},
                {"SHAPE": "ddd"},
                {"ORTH": ")", "OP": "?"},
                {"ORTH": "-", "OP": "?"},
                {"SHAPE": "ddd"},
                {"ORTH": {"IN": ["-", "."]}, "OP": "?"},
                {"SHAPE": "dddd"},
            ],
        },
        # A reference with its hyphen, or without it but with a digit: a word ("Crescent") is never one.
        {
            "label": "reference",
            "pattern": [
                {"TEXT": {"REGEX": r"^[CPScps](-[2-9A-HJKMNP-Za-hjkmnp-z]{7}|(?=\w*\d)[2-9A-HJKMNP-Za-hjkmnp-z]{7})$"}}
            ],
        },
    ]
    return found


def date_time_rules() -> list[list[dict[str, Any]]]:
    """Return the token patterns of dates and times: "yesterday morning", "last Tuesday", "March 3", "2 weeks ago"."""
    part = {"LOWER": {"IN": PARTS_OF_DAY}, "OP": "?"}
    clock = {"TEXT": {"REGEX": r"^([01]?\d|2[0-3])(:[0-5]\d)?$"}}
    meridiem = {"LOWER": {"IN": ["am", "pm", "a.m.", "p.m.", "a.m", "p.m"]}}
    year = {"TEXT": {"REGEX": r"^(19|20)\d\d$"}, "OP": "?"}
    return [
        [{"LOWER": {"IN": ["today", "yesterday", "tonight", "tomorrow", "overnight"]}}, part],
        [
            {"LOWER": {"IN": ["this", "last", "next", "every", "since", "on"]}},
            {"LOWER": {"IN": DAYS + PARTS_OF_DAY + ["week", "month", "year", "sat", "sun"]}},
            part,
        ],
        [{"LOWER": {"IN": DAYS}}, part],
        # 2 weeks ago, a few days ago, three months ago
        [
            {"LOWER": {"IN": ["a", "an", "few", "couple", "several"]}, "OP": "*"},
            {"LOWER": "of", "OP": "?"},
            {"LIKE_NUM": True, "OP": "?"},
            {"LOWER": {"IN": UNITS}},
            {"LOWER": "ago"},
        ],
        # March 3, Mar 3rd 2024, May 12; 3 March, the 3rd of March
        [{"LOWER": {"IN": MONTHS}}, DAY_NUMBER, {"ORTH": ",", "OP": "?"}, year],
        [DAY_NUMBER, {"LOWER": "of", "OP": "?"}, {"LOWER": {"IN": MONTHS}}, year],
        [{"LOWER": {"IN": ["in", "since", "last", "early", "late", "mid"]}}, {"LOWER": {"IN": SAFE_MONTHS}}],
        # 2024-03-05, 05/03/2024
        [{"TEXT": {"REGEX": r"^(19|20)\d\d$"}}, {"ORTH": "-"}, {"SHAPE": "dd"}, {"ORTH": "-"}, {"SHAPE": "dd"}],
        [{"TEXT": {"REGEX": r"^\d{1,2}/\d{1,2}/(\d\d|\d{4})$"}}],
        # 7 am, 7:30pm, at 19:45
        [{"LOWER": {"IN": ["at", "around", "about", "after", "before", "by"]}, "OP": "?"}, clock, meridiem],
        [{"LOWER": {"IN": ["at", "around", "after", "before"]}}, {"TEXT": {"REGEX": r"^([01]?\d|2[0-3]):[0-5]\d$"}}],
    ]


def build(target: Path) -> None:
    """Create the blank English pipeline with the entity ruler and save it to target."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(patterns())
    nlp.meta["name"] = "intake_rules"
    nlp.meta["description"] = (
        "Rule-based entities for the 311 intake assistant: places, dates and times, staff, phones, emails, references"
    )
    nlp.to_disk(target)


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "build/spacy_rules"))
