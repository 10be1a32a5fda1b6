"""When the classifier hesitates between two kinds of report, ask the resident which one they mean.

A guess that files a request as a complaint (or praise as a complaint) sends the case to the wrong people with the
wrong time limits, so one plain question is cheaper than a wrong guess. The classifier's ranking of the first
message decides whether to ask: the two kinds ranked highest, and how close they are. The same answer words work
in the read-back ("it's a complaint, not a request"), so the resident can change the kind there too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from actions.answers import named_choice, numbered_choice
from actions.flow import COMPLAINT, COMPLIMENT, KINDS, SERVICE_REQUEST

# Ask when the runner-up kind has at least this confidence and trails the top kind by less than the margin.
# Chosen with benchmarks/kind_choice.py (`make bench-kind`, which sweeps both) on the held-out and outside-style
# development sets: asking about one report in thirteen to forty files up to 2 points more reports as the right kind
# (outside-hard: 0.888 by the classifier alone, 0.908 with the question, with the fine-tuned encoder); a wider
# margin asks more for little more.
MIN_RUNNER_UP = 0.15
MAX_MARGIN = 0.55

# The options of each question, in the order they are offered (1, 2), whatever the classifier ranked first.
OPTIONS: dict[frozenset, tuple[str, str]] = {
    frozenset((COMPLAINT, SERVICE_REQUEST)): (SERVICE_REQUEST, COMPLAINT),
    frozenset((COMPLAINT, COMPLIMENT)): (COMPLIMENT, COMPLAINT),
    frozenset((COMPLIMENT, SERVICE_REQUEST)): (COMPLIMENT, SERVICE_REQUEST),
}
# The domain response that asks each question.
RESPONSES: dict[tuple[str, str], str] = {
    (SERVICE_REQUEST, COMPLAINT): "utter_ask_kind_fix_or_complaint",
    (COMPLIMENT, COMPLAINT): "utter_ask_kind_thanks_or_complaint",
    (COMPLIMENT, SERVICE_REQUEST): "utter_ask_kind_thanks_or_fix",
}
# How the assistant names each kind to the resident.
NAMES: dict[str, str] = {COMPLAINT: "complaint", COMPLIMENT: "compliment", SERVICE_REQUEST: "request"}
# Words that name each kind in an answer; the longest phrase found wins ("not happy" over "happy").
WORDS: dict[str, tuple[str, ...]] = {
    SERVICE_REQUEST: (
        "fix",
        "fixed",
        "fix it",
        "fix something",
        "something fixed",
        "repair",
        "repaired",
        "request",
        "service request",
        "sort it out",
        "clean it up",
        "come out",
        "get it done",
    ),
    COMPLAINT: (
        "unhappy",
        "not happy",
        "complain",
        "complaint",
        "complaining",
        "handled",
        "how it was handled",
        "upset",
        "angry",
        "frustrated",
        "annoyed",
        "disappointed",
        "fed up",
        "not pleased",
    ),
    COMPLIMENT: (
        "thanks",
        "thank",
        "thank you",
        "thanking",
        "thank someone",
        "praise",
        "compliment",
        "happy",
        "pleased",
        "grateful",
        "good job",
        "great job",
        "well done",
        "kudos",
    ),
}
# "It's a complaint", "make it a request": naming a kind outright in the read-back.
_NAMED_KIND = re.compile(
    r"\b(?:it'?s|it is|its|this is|that's|that is|make it|change it to|should be|file it as|as|meant)\s+(?:a|an)\s+"
    r"(complaint|compliment|(?:service\s+)?request)\b"
)
_KIND_OF_WORD = {"complaint": COMPLAINT, "compliment": COMPLIMENT}


def kind_scores(ranking: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Return each kind's confidence in an intent ranking (0 for a kind the ranking leaves out)."""
    scores = {kind: 0.0 for kind in KINDS}
    for entry in ranking or ():
        name = entry.get("name")
        if name in scores:
            scores[name] = max(scores[name], float(entry.get("confidence") or 0.0))
    return scores


def unsure_between(top_kind: str | None, ranking: Iterable[Mapping[str, Any]]) -> tuple[str, str] | None:
    """Return the two kinds to offer (in their question's order) when the classifier hesitates, else None."""
    if top_kind not in KINDS:
        return None
    scores = kind_scores(ranking)
    runner_up = max((kind for kind in KINDS if kind != top_kind), key=lambda kind: scores[kind])
    if scores[runner_up] < MIN_RUNNER_UP or scores[top_kind] - scores[runner_up] >= MAX_MARGIN:
        return None
    return OPTIONS[frozenset((top_kind, runner_up))]


def chosen_kind(text: str, options: tuple[str, str], intent: str | None = None) -> str | None:
    """Return the kind the resident picked from the two offered: by number, by its words, or None."""
    index = numbered_choice(text, len(options))
    if index is not None:
        return options[index]
    index = named_choice(text, [WORDS[kind] for kind in options])
    if index is not None:
        return options[index]
    named = named_kind(text)
    if named in options:
        return named
    return intent if intent in options else None


def named_kind(text: str) -> str | None:
    """Return the kind a resident names outright ("it's a complaint", "make it a request"), or None."""
    match = _NAMED_KIND.search(text.lower())
    if match is None:
        return None
    return _KIND_OF_WORD.get(match.group(1), SERVICE_REQUEST)


def options_of(value: str | None) -> tuple[str, str] | None:
    """Return the two offered kinds kept in the `kind_options` slot ("service_request complaint"), or None."""
    parts = tuple((value or "").split())
    if len(parts) != 2 or not set(parts) <= set(KINDS):
        return None
    return parts[0], parts[1]
