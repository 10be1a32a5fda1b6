"""Reference numbers: shape, normalisation, and the typos the check character catches."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend import references
from backend.references import ALPHABET

SHAPE = re.compile(r"^[CPS]-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{7}$")


@pytest.mark.parametrize(("kind", "prefix"), [("complaint", "C"), ("compliment", "P"), ("service_request", "S")])
def test_generate_has_the_kind_prefix_and_shape(kind: str, prefix: str) -> None:
    for _ in range(200):
        reference = references.generate(kind)
        assert len(reference) == 9
        assert SHAPE.match(reference), reference
        assert reference.startswith(prefix + "-")
        assert references.is_valid(reference)


def test_generate_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown case kind"):
        references.generate("question")


def test_alphabet_has_31_unambiguous_symbols() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set("01OIL") & set(ALPHABET)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("S-4F7KQ2X", "S-4F7KQ2X"),
        ("s-4f7kq2x", "S-4F7KQ2X"),
        ("S4F7KQ2X", "S-4F7KQ2X"),
        ("  s 4f7 kq2x ", "S-4F7KQ2X"),
        ("c-ab23cdx", "C-AB23CDX"),
    ],
)
def test_normalize_accepts_case_blanks_and_a_missing_hyphen(text: str, expected: str) -> None:
    assert references.normalize(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "S-", "S-4F7KQ2", "S-4F7KQ2XY", "X-4F7KQ2X", "S-4F7KQ0X", "S-4F7KQOX", "S-4F7KQ1X", "S--4F7KQ2X", "S_4F7KQ2X"],
)
def test_normalize_returns_none_for_the_wrong_shape(text: str) -> None:
    assert references.normalize(text) is None


@settings(database=None, max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_normalize_never_raises_and_is_idempotent(text: str) -> None:
    result = references.normalize(text)
    if result is not None:
        assert SHAPE.match(result)
        assert references.normalize(result) == result


def test_is_valid_wants_the_canonical_form_and_the_right_check_character() -> None:
    reference = references.generate("complaint")
    assert references.is_valid(reference)
    assert not references.is_valid(reference.lower())
    assert not references.is_valid(reference.replace("-", ""))
    assert not references.is_valid("nonsense")


def _variants(reference: str) -> tuple[set[str], set[str]]:
    """Return every single-character substitution and every adjacent swap of `reference` (hyphen ignored)."""
    chars = reference.replace("-", "")
    substitutions, swaps = set(), set()
    for i, original in enumerate(chars):
        for other in ALPHABET:
            if other != original:
                substitutions.add(chars[:i] + other + chars[i + 1 :])
    for i in range(len(chars) - 1):
        if chars[i] != chars[i + 1]:
            swaps.add(chars[:i] + chars[i + 1] + chars[i] + chars[i + 2 :])
    return substitutions, swaps


def test_every_single_error_and_adjacent_swap_is_caught() -> None:
    """Brute force over a sample: no typo of these two kinds ever yields another valid reference."""
    rng = random.Random(311)
    checked = 0
    for _ in range(400):
        prefix = rng.choice("CPS")
        body = "".join(rng.choice(ALPHABET) for _ in range(6))
        reference = f"{prefix}-{body}{references.check_character(prefix + body)}"
        assert references.is_valid(reference)
        substitutions, swaps = _variants(reference)
        for typo in substitutions | swaps:
            canonical = references.normalize(typo)
            assert canonical is None or not references.is_valid(canonical), (reference, typo)
            checked += 1
    assert checked > 400 * 8 * 30


def test_the_weights_catch_every_error_for_every_pair_of_values() -> None:
    """Check the arithmetic behind the property for all positions and values, not just a sample."""
    n = len(ALPHABET)
    for weight in range(1, 8):
        for difference in range(1, n):
            assert weight * difference % n != 0
    for a in range(n):
        for b in range(n):
            if a != b:
                # Swapping neighbours at weights w and w+1 changes the sum by a - b, never 0 mod 31.
                assert (a - b) % n != 0
