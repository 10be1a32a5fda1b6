"""Decide what a resident's own words already tell us, so that nothing is asked twice."""

from __future__ import annotations

import re

# Words that only say *that* the resident wants to give feedback, not *what* it is about.
_GENERIC_WORDS = frozenset(
    """
    a about am an and any are as at be can could do feedback file for give got have hello hey hi how i i'd i'm id im
    is it just let like lodge log make me my need of on or please pls problem issue raise register report request
    send service so some something submit tell that the there this to u want wanna would you your yo 311 city
    complain complaining complaint complaints compliment compliments praise thank thanks new
    """.split()
)
_WORD = re.compile(r"[a-z0-9']+")

MIN_DESCRIPTION_CHARS = 3
MAX_DESCRIPTION_CHARS = 4000
MAX_LOCATION_CHARS = 500


def is_descriptive(text: str) -> bool:
    """Say whether a message describes the matter itself (two or more content words), not just the wish to report."""
    words = _WORD.findall(text.lower())
    return sum(1 for word in words if word not in _GENERIC_WORDS) >= 2


def has_words(text: str) -> bool:
    """Say whether the text has at least a few letters or digits."""
    return len(re.sub(r"[\W_]", "", text)) >= MIN_DESCRIPTION_CHARS
