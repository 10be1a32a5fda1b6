"""Take personal details out of residents' text: email addresses, phone numbers, street addresses, postal codes."""

from __future__ import annotations

import re

_STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|crescent|cres|court|ct|lane|ln|place|pl|way|square|sq|"
    "parkway|pkwy|terrace|terr|circle|cir|trail|trl|gardens|gdns|heights|hts|highway|hwy|grove|gate|row|path"
)
_PATTERNS = (
    ("[email]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)),
    ("[link]", re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)),
    # North American numbers with or without the country code, separators and brackets; and bare 7-digit numbers.
    ("[phone]", re.compile(r"(?<!\w)(?:\+?1[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)")),
    ("[phone]", re.compile(r"(?<!\w)\d{3}[\s.-]\d{4}(?!\w)")),
    (
        "[postal code]",
        re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ -]?\d[ABCEGHJ-NPRSTV-Z]\d\b", re.IGNORECASE),
    ),
    # A house number and a street name: "45 Elm Street", "1200 Bay St. W", "12B Queen's Park Cres"
    (
        "[address]",
        re.compile(
            rf"\b\d{{1,6}}[A-Za-z]?(?:\s*-\s*\d{{1,6}})?\s+(?:[A-Za-z'.-]+\s+){{0,4}}?(?:{_STREET_TYPES})\b\.?"
            r"(?:\s+(?:north|south|east|west|n|s|e|w)\b\.?)?",
            re.IGNORECASE,
        ),
    ),
)


def redact(text: str) -> str:
    """Return `text` with personal details replaced by a bracketed word such as ``[phone]``."""
    for placeholder, pattern in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text
