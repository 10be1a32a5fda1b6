"""Guess what a complaint is about from the resident's words, and read their own choice of category.

The guess is only offered ("This sounds like a complaint about staff. Is that right?"); the resident decides.
Policy complaints are recorded as such because they feed the City's policy review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from actions.answers import named_choice, numbered_choice


@dataclass(frozen=True)
class Category:
    """One complaint category: its code, how the resident hears it, and words that point to it."""

    code: str
    label: str  # completes "a complaint about ..."
    choice: str  # how it is listed in the menu
    names: tuple[str, ...]  # words a resident may answer with to pick it
    clues: tuple[str, ...]  # words in a story that suggest it


CATEGORIES: tuple[Category, ...] = (
    Category(
        "service",
        "a service",
        "a service",
        ("service", "services", "work", "job"),
        (
            "missed",
            "skipped",
            "not picked",
            "wasn't picked",
            "wasnt picked",
            "not done",
            "broken",
            "mess",
            "left a",
            "didn't",
            "didnt",
            "never came",
            "not fixed",
            "poor job",
            "bad job",
            "quality",
        ),
    ),
    Category(
        "staff",
        "staff",
        "staff",
        ("staff", "worker", "workers", "employee", "person", "officer", "driver", "agent", "crew", "rude"),
        (
            "rude",
            "yelled",
            "shouted",
            "swore",
            "attitude",
            "unprofessional",
            "disrespectful",
            "hung up",
            "officer",
            "driver",
            "agent",
            "inspector",
            "employee",
            "worker",
            "staff",
            "crew member",
            "wouldn't listen",
            "wouldnt listen",
            "ignored me",
            "laughed at",
        ),
    ),
    Category(
        "timeliness",
        "a delay",
        "a delay",
        ("delay", "delays", "slow", "late", "time", "waiting", "wait", "timeliness"),
        (
            "weeks",
            "months",
            "days",
            "still",
            "again",
            "waiting",
            "waited",
            "wait",
            "on hold",
            "late",
            "slow",
            "delay",
            "took forever",
            "no one came",
            "nobody came",
            "nobody has",
            "no response",
            "never responds",
            "never called back",
            "no reply",
            "since",
        ),
    ),
    Category(
        "decision",
        "a decision",
        "a decision",
        ("decision", "decided", "ruling", "refused", "denied"),
        (
            "decision",
            "decided",
            "refused",
            "denied",
            "rejected",
            "turned down",
            "ticket",
            "fined",
            "cut down the wrong",
            "unfair",
        ),
    ),
    Category(
        "charge",
        "a charge or fee",
        "a charge or fee",
        ("charge", "charged", "fee", "fees", "bill", "cost", "money", "fine", "price"),
        (
            "charge",
            "charged",
            "fee",
            "bill",
            "billed",
            "invoice",
            "refund",
            "overcharged",
            "$",
            "tax",
            "cost me",
            "paid",
            "payment",
        ),
    ),
    Category(
        "policy",
        "a City rule or policy",
        "a City rule or policy",
        ("policy", "rule", "rules", "bylaw", "by-law", "law", "council"),
        (
            "policy",
            "by-law",
            "bylaw",
            "rule",
            "council",
            "ban",
            "banning",
            "new law",
            "should not be allowed",
            "makes no sense",
        ),
    ),
    Category(
        "accessibility",
        "access for people with disabilities",
        "access for disabilities",
        ("access", "accessibility", "accessible", "disability", "disabilities", "wheelchair"),
        (
            "wheelchair",
            "ramp",
            "accessible",
            "accessibility",
            "disability",
            "disabled",
            "walker",
            "elevator",
            "blind",
            "deaf",
            "mobility",
            "stroller",
        ),
    ),
    Category(
        "other", "something else", "something else", ("other", "something else", "none", "none of these", "else"), ()
    ),
)
BY_CODE = {category.code: category for category in CATEGORIES}
_WORD = re.compile(r"[a-z0-9'$-]+")


def guess(text: str) -> str | None:
    """Return the code of the category the story's words point to most, or None when nothing stands out."""
    lowered = " " + " ".join(_WORD.findall(text.lower())) + " "
    scores = {}
    for category in CATEGORIES:
        score = sum(1 for clue in category.clues if _contains(lowered, clue))
        if score:
            scores[category.code] = score
    if not scores:
        return None
    best = max(scores.values())
    leaders = [code for code, score in scores.items() if score == best]
    # A tie is broken toward the more specific category: what the resident is unhappy *about* beats "a delay".
    for code in ("accessibility", "policy", "charge", "staff", "decision", "timeliness", "service"):
        if code in leaders:
            return code
    return None


def _contains(lowered: str, clue: str) -> bool:
    if clue == "$":
        return "$" in lowered
    return " " + " ".join(_WORD.findall(clue.lower())) + " " in lowered


def menu() -> str:
    """Return the numbered list of categories, one a line."""
    return "\n".join(f"{number} {category.choice}" for number, category in enumerate(CATEGORIES, start=1))


def chosen(text: str) -> str | None:
    """Return the category the resident chose, by number or by name, or None."""
    index = numbered_choice(text, len(CATEGORIES))
    if index is None:
        index = named_choice(text, [category.names for category in CATEGORIES])
    return CATEGORIES[index].code if index is not None else None
