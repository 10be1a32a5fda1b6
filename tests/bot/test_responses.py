"""Every message a resident can see is plain: short, easy to read, and fits in two text messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# GSM 03.38 basic character set: what a text message carries at 160 characters per segment.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
TWO_SEGMENTS = 2 * 153  # a message longer than 160 characters is sent in parts of 153


def responses() -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        for name, variants in (yaml.safe_load(path.read_text()).get("responses") or {}).items():
            # Slots are filled in before sending: check the text as a resident sees it.
            found[name] = [v["text"].replace("{case_reference}", "S-4F7KQ2X") for v in variants if "text" in v]
    return found


def syllables(word: str) -> int:
    word = word.lower()
    groups = re.findall(r"[aeiouy]+", word)
    count = len(groups) - (1 if word.endswith("e") and len(groups) > 1 and not word.endswith("le") else 0)
    return max(1, count)


def english_part(text: str) -> str:
    """Return the sentences of a message without accented letters (a bilingual message's French is not graded)."""
    return " ".join(s for s in re.split(r"(?<=[.!?])\s+", text) if s.isascii())


def grade_level(text: str) -> float:
    """Return the Flesch-Kincaid grade of the text."""
    text = english_part(text)
    sentences = max(1, len(re.findall(r"[.!?]+(?:\s|$)", text)))
    words = re.findall(r"[A-Za-z']+", text)
    if not words:
        return 0.0
    return 0.39 * len(words) / sentences + 11.8 * sum(syllables(w) for w in words) / len(words) - 15.59


ALL = [(name, text) for name, texts in responses().items() for text in texts]


def test_there_are_responses_to_check():
    assert len(ALL) >= 20


@pytest.mark.parametrize("name, text", ALL)
def test_fits_in_two_text_messages(name, text):
    assert len(text) <= TWO_SEGMENTS
    assert set(text) <= GSM7, f"{name} has characters outside GSM-7: {set(text) - GSM7}"


@pytest.mark.parametrize("name, text", ALL)
def test_reads_at_grade_eight_or_below(name, text):
    assert grade_level(text) <= 8.0, f"{name}: grade {grade_level(text):.1f}"


@pytest.mark.parametrize("name, text", ALL)
def test_asks_at_most_one_question(name, text):
    assert text.count("?") <= 1


def test_the_grade_formula_tells_plain_from_dense():
    assert grade_level("Your bin was missed. We will fix it.") < 4
    dense = "Notwithstanding jurisdictional considerations, remediation necessitates interdepartmental coordination."
    assert grade_level(dense) > 12
