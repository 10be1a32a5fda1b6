"""Take personal details out of residents' text: email addresses, phone numbers, street addresses, postal codes,
and (for key themes) places: street names without a number, intersections, named places, and the case's location."""

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


_STRONG_TYPES = "street|st|avenue|ave|boulevard|blvd|crescent|cres|parkway|pkwy|terrace|terr|road|rd|drive|dr"
# Words that describe a street rather than name it: "my street", "a busy road" are not places.
_NOT_NAMES = frozenset(
    "a an the my our your their his her its this that these those same every each whole entire next other busy "
    "quiet dark main side residential local one".split()
)
_NAME = r"[A-Z][\w'-]*"
_PLACE_PATTERNS = (
    # "Elm Street", "Queen St W", "Bloor St. West", "St Clair Ave": capitalised names before any street type
    re.compile(rf"\b(?:{_NAME}\s+){{1,3}}(?i:{_STREET_TYPES})\b\.?(?:\s+(?i:north|south|east|west|n|s|e|w)\b\.?)?"),
    # "corner of queen and spadina", "intersection of Bay & King", "between Christie and Bathurst"
    re.compile(
        r"\b(?:corner of|intersection of|between)\s+(?:the\s+)?[\w'.-]+(?:\s+[\w'.-]+){0,2}?\s+(?:and|&)\s+"
        r"[\w'.-]+(?:\s+(?:" + _STREET_TYPES + r")\b\.?)?",
        re.IGNORECASE,
    ),
    # a capitalised place after a word that introduces one: "near Spadina", "outside the Lillian H. Smith library"
)
_INTRODUCED = re.compile(
    rf"\b(near|outside|behind|beside|across from|in front of|at|on|by)\s+(?:the\s+)?{_NAME}(?:\s+{_NAME}){{0,3}}"
)
_LOWER_STREET = re.compile(rf"\b([a-z][\w'.-]*)\s+(?:{_STRONG_TYPES})\b\.?", re.IGNORECASE)
_LOCATION_WORD = re.compile(r"[^\W\d_][\w'-]{2,}")
_LOCATION_FILLER = frozenset(
    "and the near outside behind beside across from front corner intersection between at on by of in block".split()
) | frozenset(_STREET_TYPES.split("|"))


def redact_places(text: str, location: str | None = None) -> str:
    """Return `text` without places: the words of the case's `location`, street names, intersections, named places.

    Meant for counting words (key themes), so it errs on the side of removing: "Main Street" and "Elm St" go, and
    so does a lower-case "elm st"; "my street" and "the road" stay.
    """
    text = redact(text)
    for pattern in _PLACE_PATTERNS:
        text = pattern.sub("[place]", text)
    text = _INTRODUCED.sub(lambda m: f"{m.group(1)} [place]", text)
    text = _LOWER_STREET.sub(lambda m: m.group(0) if m.group(1).lower() in _NOT_NAMES else "[place]", text)
    words = {word.lower() for word in _LOCATION_WORD.findall(location or "")} - _LOCATION_FILLER
    if words:
        named = re.compile(
            r"(?<!\[)\b(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")\b", re.IGNORECASE
        )
        text = named.sub("[place]", text)
    return text
