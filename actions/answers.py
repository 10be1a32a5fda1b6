"""Read a resident's short answers: yes or no, a choice from a list, a phone number, an email, "I don't know"."""

from __future__ import annotations

import re
from collections.abc import Sequence

import case_references

_WORD = re.compile(r"[a-z0-9']+|[\U0001F44D\U0001F44E]")
_YES = frozenset(
    "yes yeah yep yup ya yea y sure ok okay k correct right please absolutely definitely affirmative \U0001f44d".split()
)
_YES_PHRASES = ("of course", "go ahead", "that's it", "that is it", "sounds good", "looks good", "all good")
_NO = frozenset("no nope nah n not don't dont never wrong incorrect \U0001f44e".split())
_UNKNOWN_PHRASES = (
    "don't know",
    "dont know",
    "do not know",
    "not sure",
    "no idea",
    "unsure",
    "idk",
    "can't remember",
    "cant remember",
    "don't remember",
    "dont remember",
    "no clue",
    "skip",
    "don't have",
    "dont have",
    "n/a",
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_REFERENCE = re.compile(r"\b([CPScps])\s*-?\s*([2-9A-HJKMNP-Za-hjkmnp-z]{7})\b")
# Words that say a reference number comes next: "my reference is", "ref:", "case #", "report number".
_REFERENCE_CUE = re.compile(r"\b(?:ref|reference|case|report|ticket|number|no)\b\W*(?:is|was|:)?\W*$|#\s*$", re.I)
_NUMBER_CHOICE = re.compile(r"^\D{0,12}?(\d{1,2})\D{0,3}$")
# "not right", "isn't correct": a yes-word after a negation is a no.
_NEGATED_YES = re.compile(r"\b(?:not|isn't|isnt|is not|don't|dont)\s+(?:right|correct|ok|okay|it|good|true)\b")


def yes_or_no(text: str, intent: str | None = None) -> bool | None:
    """Return True for a yes, False for a no, None when the answer is neither (or both)."""
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    lowered = text.lower().strip()
    if _NEGATED_YES.search(lowered):
        return False
    words = set(_WORD.findall(lowered))
    yes = bool(words & _YES) or any(phrase in lowered for phrase in _YES_PHRASES)
    no = bool(words & _NO)
    if yes == no:
        return None
    return yes


# Words that may come with a bare yes or no without adding anything to it ("yes please", "no thanks").
_FILLER = frozenset("please thanks thank you i do it is that's that sure of course go ahead thx ty".split())


def is_bare_yes_or_no(text: str) -> bool:
    """Say whether the answer is only a yes or a no ("yes please", "nope"), with nothing else in it."""
    words = _WORD.findall(text.lower())
    return bool(words) and yes_or_no(text) is not None and all(w in _YES | _NO | _FILLER for w in words)


def is_unknown(text: str) -> bool:
    """Say whether the answer means "I don't know" or "skip"."""
    lowered = " " + text.lower().strip() + " "
    return any(phrase in lowered for phrase in _UNKNOWN_PHRASES)


def numbered_choice(text: str, count: int) -> int | None:
    """Return the 0-based index a resident chose by number ("2", "#2", "option 2"), or None."""
    match = _NUMBER_CHOICE.match(text.strip().lower())
    if not match:
        return None
    number = int(match.group(1))
    return number - 1 if 1 <= number <= count else None


def named_choice(text: str, names: Sequence[Sequence[str]]) -> int | None:
    """Return the index of the only option whose words appear in the answer, or None when none or several do.

    Each option is given as a list of words or phrases that name it; a longer phrase wins over a shorter one
    inside it ("green bin" over "bin").
    """
    lowered = " " + " ".join(_WORD.findall(text.lower())) + " "
    best: dict[int, int] = {}
    for index, phrases in enumerate(names):
        for phrase in phrases:
            needle = " " + " ".join(_WORD.findall(phrase.lower())) + " "
            if needle.strip() and needle in lowered:
                best[index] = max(best.get(index, 0), len(needle))
    if not best:
        return None
    longest = max(best.values())
    winners = [index for index, length in best.items() if length == longest]
    return winners[0] if len(winners) == 1 else None


def phone_number(text: str) -> str | None:
    """Return a North American phone number as 10 digits, or None when the answer is not one."""
    if _EMAIL.search(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        return None
    # Letters mixed in ("call 416 555 0123 ext 4") are fine; a long story with digits in it is not a number.
    if len(re.sub(r"[\d\s()+.\-]", "", text)) > 12:
        return None
    return digits


def format_phone(number: str) -> str:
    """Return a phone number as 416-555-0123 (or as given, when it is not a North American number)."""
    digits = phone_number(number)
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" if digits else number


def email_address(text: str) -> str | None:
    """Return the one email address in the answer, or None."""
    found = _EMAIL.findall(text)
    return found[0] if len(found) == 1 and len(found[0]) <= 254 else None


def last_digits(text: str, count: int = 4) -> str | None:
    """Return exactly `count` digits from the answer, or None when it holds another number of digits."""
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) == count else None


def reference_in(text: str, offered: bool = False) -> str | None:
    """Return the reference number in the answer, as C-XXXXXXX, or None.

    `offered`: the resident was asked for a reference (or asked about one), so anything of its shape is taken and
    the backend says whether it exists. Otherwise words must not pass for a reference ("31 Crescent Rd" is no
    C-RESCENT): it needs its hyphen or a word that introduces it ("ref", "reference", "#"), and a right check
    character.
    """
    for match in _REFERENCE.finditer(text or ""):
        reference = f"{match.group(1).upper()}-{match.group(2).upper()}"
        if offered:
            return reference
        introduced = "-" in match.group(0) or _REFERENCE_CUE.search(text[: match.start()]) is not None
        if introduced and case_references.is_valid(reference):
            return reference
    return None
