"""Every message a resident can see is plain: short, easy to read, and fits in two text messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from bot_testing import GSM7, TWO_SEGMENTS, grade_level

from actions import complaint_category

ROOT = Path(__file__).resolve().parents[2]

# Values filled into responses before they are sent, at their longest realistic size: the check is on the text
# as a resident sees it. The division menu is the catalog's real one (backend/catalog.yml).
SAMPLES = {
    "case_reference": "S-4F7KQ2X",
    "status_reference": "S-4F7KQ2X",
    "team": "Municipal Licensing & Standards",
    "menu": "1 Toronto Water\n2 Transportation Services\n3 Urban Forestry\n4 Municipal Licensing & Standards\n"
    "5 Solid Waste Management Services\n6 Parks, Forestry & Recreation\n7 311 Toronto",
    "category": "access for people with disabilities",
    "categories": complaint_category.menu(),
    "field": "contact details",
    "value": "12 Elm St near the corner of Queen St W",
    "acknowledge_days": "5",
    "respond_days": "10",
    "days": "5",
    "phone": "416-555-0123",
    "kind_name": "compliment",
}


# Division names come from the catalog and are the City's official names ("Municipal Licensing & Standards"):
# the reading grade is checked on the assistant's own words around them.
GRADED_SAMPLES = {**SAMPLES, "menu": "1 Toronto Water\n2 Parks", "team": "Toronto Water"}


def responses(samples: dict[str, str] = SAMPLES) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        for name, variants in (yaml.safe_load(path.read_text()).get("responses") or {}).items():
            found[name] = [v["text"].format(**samples) for v in variants if "text" in v]
    return found


ALL = [(name, text) for name, texts in responses().items() for text in texts]
GRADED = [(name, text) for name, texts in responses(GRADED_SAMPLES).items() for text in texts]


def test_there_are_responses_to_check():
    assert len(ALL) >= 20


@pytest.mark.parametrize("name, text", ALL)
def test_fits_in_two_text_messages(name, text):
    assert len(text) <= TWO_SEGMENTS
    assert set(text) <= GSM7, f"{name} has characters outside GSM-7: {set(text) - GSM7}"


@pytest.mark.parametrize("name, text", GRADED)
def test_reads_at_grade_eight_or_below(name, text):
    assert grade_level(text) <= 8.0, f"{name}: grade {grade_level(text):.1f}"


@pytest.mark.parametrize("name, text", ALL)
def test_asks_at_most_one_question(name, text):
    assert text.count("?") <= 1


def sms_forms() -> list[tuple]:
    """Return each response with buttons as a text message shows it: the buttons become numbered options."""
    from channels.options import numbered_prompt, options_from_buttons

    found = []
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        for name, variants in (yaml.safe_load(path.read_text()).get("responses") or {}).items():
            for variant in variants:
                if variant.get("buttons"):
                    text = variant["text"].format(**SAMPLES)
                    found.append((name, f"{text} {numbered_prompt(options_from_buttons(variant['buttons']))}"))
    return found


def test_buttons_are_only_shortcuts_and_their_sms_form_still_fits():
    forms = sms_forms()
    assert len(forms) >= 8
    for name, text in forms:
        assert len(text) <= TWO_SEGMENTS and set(text) <= GSM7, name
        # The question itself says what to answer: "yes or no", or the choices, in words.
        assert "?" in text, name


def test_the_grade_formula_tells_plain_from_dense():
    assert grade_level("Your bin was missed. We will fix it.") < 4
    dense = "Notwithstanding jurisdictional considerations, remediation necessitates interdepartmental coordination."
    assert grade_level(dense) > 12
