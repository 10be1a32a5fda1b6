"""Generate, normalise and validate case reference numbers such as ``S-4F7KQ2X``.

The format is shared by the backend, which issues and looks references up, and the assistant, which must not take
a street name for one; this package imports nothing else of the project.

A reference is a prefix naming the kind of case (``C`` complaint, ``P`` compliment or praise, ``S`` service
request), a hyphen, six random characters and one check character. The alphabet leaves out 0, O, 1, I and L,
which people confuse. The check character is ``sum(i * value(c_i) for i, c_i in enumerate(prefix + body, 1))``
modulo 31: since 31 is prime and every weight is below 31, any single wrong character and any swap of two
adjacent different characters changes the sum, so such a typo is always caught.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIXES = {"complaint": "C", "compliment": "P", "service_request": "S"}
BODY_LENGTH = 6

_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_PREFIX_CHARS = "".join(sorted(PREFIXES.values()))
_SHAPE = re.compile(rf"([{_PREFIX_CHARS}])-?([{ALPHABET}]{{{BODY_LENGTH + 1}}})")
_BLANKS = re.compile(r"\s+")

assert len(ALPHABET) == 31 and len(set(ALPHABET)) == 31
assert all(prefix in _VALUES for prefix in PREFIXES.values())


def check_character(payload: str) -> str:
    """Return the check character of `payload` (prefix followed by the random body, no hyphen)."""
    total = sum(weight * _VALUES[char] for weight, char in enumerate(payload, start=1))
    return ALPHABET[total % len(ALPHABET)]


def generate(kind: str) -> str:
    """Return a new random reference for a case of `kind` (``complaint``, ``compliment``, ``service_request``)."""
    try:
        prefix = PREFIXES[kind]
    except KeyError:
        raise ValueError(f"unknown case kind: {kind!r}") from None
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return f"{prefix}-{body}{check_character(prefix + body)}"


def normalize(text: str) -> str | None:
    """Return `text` in the canonical ``X-XXXXXXX`` form, or None when it does not have that shape.

    Case and blanks are ignored and the hyphen may be left out. The check character is not verified here; use
    `is_valid` for that.
    """
    match = _SHAPE.fullmatch(_BLANKS.sub("", text).upper())
    if match is None:
        return None
    prefix, rest = match.groups()
    return f"{prefix}-{rest}"


def is_valid(reference: str) -> bool:
    """Return True when `reference` is in canonical form and its check character is right."""
    if normalize(reference) != reference:
        return False
    prefix, rest = reference.split("-")
    return check_character(prefix + rest[:-1]) == rest[-1]
