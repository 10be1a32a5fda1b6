"""Notice when a resident says they reported something before and nothing was done.

A first report of a missed bin is a service request; "I reported it and nothing happened" is a complaint about
how the first report was handled, linked to its reference number.
"""

from __future__ import annotations

import re

_CLUES = re.compile(
    r"\b(?:"
    r"(?:already|previously|before)\s+(?:reported|called|complained|asked|told)"
    r"|(?:reported|called|complained|emailed|phoned)\s+(?:it|this|that|them|about|in|\d|twice|several|many|a few)"
    r"|(?:i|we)\s+(?:have\s+|had\s+|'ve\s+)?(?:reported|called 311|called the city|put in a request|made a request"
    r"|submitted|filed)"
    r"|nothing\s+(?:was\s+|has\s+been\s+|got\s+)?done"
    r"|(?:no\s*one|nobody)\s+(?:ever\s+)?(?:came|has come|showed up|fixed|did anything|responded|called back)"
    r"|still\s+(?:not|no|hasn't|hasnt|isn't|isnt|waiting|broken)"
    r"|(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th))\s+time"
    r"|(?:my|the)\s+(?:reference|ref|case|ticket)\s+(?:number|no|#)?"
    r")",
    re.IGNORECASE,
)
_REFERENCE = re.compile(r"\b[CPScps]-?[2-9A-HJKMNP-Za-hjkmnp-z]{7}\b")


def is_repeat(text: str) -> bool:
    """Say whether the message tells of an earlier report of the same thing, or quotes its reference."""
    return bool(_CLUES.search(text) or _REFERENCE.search(text))
