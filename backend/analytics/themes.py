"""Key themes: the words and two-word phrases that stand out in residents' own text.

Each case's description is redacted (no phones, emails, addresses), lower-cased and split into words; stop words
and numbers are dropped, and a phrase is two neighbouring remaining words. A term counts once per case, and only
terms used by at least `MIN_RESIDENTS` different residents are kept, so that one person's name or repeated words
never surface. With a comparison set (the other cases), terms are ranked by log-likelihood keyness (Dunning's G2)
among those more frequent in the selection; without one, by TF-IDF summed over the selection's cases.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from backend.analytics.redaction import redact

MIN_RESIDENTS = 2
_PLACEHOLDER = re.compile(r"\[[a-z ]+\]")
_WORD = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")

STOP_WORDS = frozenset(
    """
    a about above after again against ago all almost also am an and any anyone anything are aren't around as at
    away back be because been before being below between both but by can can't cannot could couldn't day days
    did didn't do does doesn't doing don't done down during each else even ever every few for from further get
    gets getting go going gone got had hadn't has hasn't have haven't having he he'd he's her here hers herself
    hi hello hey him himself his how i i'd i'll i'm i've if in into is isn't it it's its itself just know last
    let's like lot made make many may me might more most much must my myself need new no nor not now of off
    ok okay on once one only or other our ours ourselves out over own please put really right said same say
    see she she's should shouldn't since so some someone something still such take than thank thanks that
    that's the their theirs them themselves then there there's these they they'd they'll they're they've
    thing things think this those though through time times to today too two under until up upon us very
    want was wasn't way we we'd we'll we're we've week weeks well were weren't what what's when where which
    while who whom why will with won't would wouldn't yes yet you you'd you'll you're you've your yours
    yourself yourselves im ive id dont didnt doesnt isnt wasnt cant couldnt wont wouldnt shouldnt havent hasnt
    arent werent thats theres whats hes shes theyre youre weve
    """.split()
)


@dataclass(frozen=True)
class Theme:
    """A term that stands out: how many cases in the selection use it, their share, and its score."""

    term: str
    cases: int
    share: float
    score: float


def terms(text: str) -> set[str]:
    """Return the distinct words and two-word phrases of one resident's text, personal details removed."""
    cleaned = _PLACEHOLDER.sub(" | ", redact(text).lower().replace("\u2019", "'"))
    found: set[str] = set()
    previous: str | None = None
    for token in re.findall(r"[a-z']+|[^a-z'\s]+", cleaned):
        word = token.strip("'")
        if not _WORD.fullmatch(word) or word in STOP_WORDS or len(word) < 3:
            previous = None  # a stop word, a number or punctuation ends a phrase
            continue
        found.add(word)
        if previous is not None:
            found.add(f"{previous} {word}")
        previous = word
    return found


def _document_frequencies(documents: Iterable[tuple[str, str]]) -> tuple[Counter[str], dict[str, set[str]], int]:
    """Return, over (resident, text) pairs: cases per term, the residents using each term, and the number of cases."""
    frequencies: Counter[str] = Counter()
    residents: dict[str, set[str]] = {}
    total = 0
    for resident, text in documents:
        total += 1
        for term in terms(text):
            frequencies[term] += 1
            residents.setdefault(term, set()).add(resident)
    return frequencies, residents, total


def _g2(a: int, b: int, c: int, d: int) -> float:
    """Return the log-likelihood of a term in a of c target cases against b of d reference cases."""
    expected_a = c * (a + b) / (c + d)
    expected_b = d * (a + b) / (c + d)
    value = 0.0
    if a:
        value += a * math.log(a / expected_a)
    if b:
        value += b * math.log(b / expected_b)
    return 2 * value


def key_themes(
    selection: Sequence[tuple[str, str]], reference: Sequence[tuple[str, str]] = (), *, top: int = 15
) -> list[Theme]:
    """Return the `top` themes of `selection` (resident id, text) pairs, compared with `reference` when given."""
    frequencies, residents, total = _document_frequencies(selection)
    if total == 0:
        return []
    candidates = [term for term, users in residents.items() if len(users) >= MIN_RESIDENTS]
    scored: list[Theme] = []
    if reference:
        ref_frequencies, _, ref_total = _document_frequencies(reference)
        for term in candidates:
            a, b = frequencies[term], ref_frequencies.get(term, 0)
            if a / total <= b / ref_total:
                continue  # not more common here than elsewhere
            scored.append(Theme(term, a, a / total, _g2(a, b, total, ref_total)))
    else:
        for term in candidates:
            a = frequencies[term]
            scored.append(Theme(term, a, a / total, a * math.log((1 + total) / (1 + a)) + a / total))
    scored.sort(key=lambda theme: (-theme.score, -theme.term.count(" "), theme.term))
    return _prefer_phrases(scored)[:top]


def _prefer_phrases(themes: list[Theme]) -> list[Theme]:
    """Drop a word that mostly appears inside a phrase ranked above it ("green" under "green bin")."""
    kept: list[Theme] = []
    for theme in themes:
        covered = any(
            " " in better.term and theme.term in better.term.split() and theme.cases <= better.cases * 1.25
            for better in kept
        )
        if not covered:
            kept.append(theme)
    return kept
