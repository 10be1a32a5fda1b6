"""Reading short answers, guessing a service and a complaint category, and the read-back's plain words."""

from __future__ import annotations

import pytest
from bot_testing import catalog_json, plain_language_problems

import case_references
from actions import complaint_category
from actions.answers import (
    email_address,
    format_phone,
    is_unknown,
    numbered_choice,
    phone_number,
    reference_in,
    yes_or_no,
)
from actions.catalog import Catalog
from actions.repeat_report import is_repeat
from actions.summary import change_target, gsm_safe, summary_text

CATALOG = Catalog.from_json(catalog_json())


@pytest.mark.parametrize(
    "text, answer",
    [
        ("yes", True),
        ("Yeah sure", True),
        ("ok", True),
        ("\U0001f44d", True),
        ("that's right", True),
        ("no", False),
        ("nope", False),
        ("that's not right", False),
        ("no thanks", False),
        ("maybe", None),
        ("yes and no", None),
        ("", None),
    ],
)
def test_yes_or_no(text, answer):
    assert yes_or_no(text) is answer


def test_the_classifiers_yes_or_no_wins():
    assert yes_or_no("absolutely not what I meant", intent="deny") is False


def test_numbers_names_and_references():
    assert numbered_choice("2", 4) == 1 and numbered_choice("option 3", 4) == 2 and numbered_choice("9", 4) is None
    assert phone_number("+1 (416) 555-0123") == "4165550123"
    assert phone_number("123") is None and phone_number("0165550123") is None
    assert format_phone("4165550123") == format_phone("(416) 555 0123") == "416-555-0123"
    assert email_address("it's jo.smith@example.ca thanks") == "jo.smith@example.ca"
    assert email_address("jo at example dot com") is None
    assert reference_in("ref: c 9mpx3tr", offered=True) == "C-9MPX3TR" and reference_in("pothole") is None
    assert is_unknown("I'm not sure") and not is_unknown("Elm St")


@pytest.mark.parametrize(
    "text, category",
    [
        ("the by-law officer was incredibly rude and wouldn't listen", "staff"),
        ("why am i being charged a $75 fee for a bin i never asked for", "charge"),
        ("I want to complain about the new bylaw banning backyard fire pits, it makes no sense", "policy"),
        ("there's no ramp at the community centre and my mother can't get in with her walker", "accessibility"),
        ("I called three weeks ago and nobody came, still waiting", "timeliness"),
        ("hello", None),
    ],
)
def test_the_category_guess(text, category):
    assert complaint_category.guess(text) == category


def test_the_category_menu_reads_by_number_or_name():
    assert complaint_category.chosen("7") == "accessibility"
    assert complaint_category.chosen("a rule") == "policy"
    assert complaint_category.chosen("purple") is None


@pytest.mark.parametrize(
    "text, service",
    [
        ("big pothole on queen st near spadina", "TS-POTHOLE"),
        ("my green bin wasnt picked up", "SWMS-MISSED-PICKUP"),
        ("there's water gushing out of the road, looks like a broken water main", "TW-WATER-MAIN-BREAK"),
        ("loud music from next door every night", "MLS-NOISE"),
        ("the staff were lovely", None),
    ],
)
def test_the_service_guess_uses_the_catalogs_keywords(text, service):
    found = CATALOG.guess_service(text)
    assert (found.code if found else None) == service


def test_divisions_and_their_time_limits_come_from_the_catalog():
    assert CATALOG.chosen_division("toronto water") == "TW" and CATALOG.chosen_division("5") == "SWMS"
    assert CATALOG.time_limits("SWMS") == (5, 7) and CATALOG.time_limits(None) == (5, 10)


def test_repeat_reports():
    assert is_repeat("I reported this 3 weeks ago and it's still not fixed")
    assert is_repeat("third time calling about this pothole")
    assert is_repeat("see S-4F7KQ2M")
    assert not is_repeat("pothole on queen st")


def test_the_read_back_fits_two_text_messages_and_stays_plain():
    story = "The garbage truck skipped our whole street for the third week in a row and " * 20
    slots = {
        "kind": "complaint",
        "description": story,
        "location": "1200 Bloor St W, unit 4, near the school " * 3,
        "when": "last Tuesday morning",
        "division": "SWMS",
        "complaint_category": "timeliness",
        "outcome": "Pick it up and tell me why it keeps happening " * 5,
        "contact_method": "email",
        "contact_email": "resident@example.com",
        "consent": True,
    }
    text = summary_text(slots, CATALOG)
    assert len(text) <= 300 and text.count("?") == 0
    assert "Team: Solid Waste Management Services" in text and "About: a delay" in text
    assert "Contact: by email at resident@example.com" in text and "..." in text


def test_a_typical_read_back_is_plain():
    slots = {
        "kind": "service_request",
        "description": "My bin was not picked up",
        "location": "12 Elm St",
        "service_code": "SWMS-MISSED-PICKUP",
        "service_attributes": {"stream": ["garbage"], "collection_date": ""},
        "contact_method": "channel",
        "consent": True,
    }
    assert plain_language_problems(summary_text(slots, CATALOG)) == []


def test_the_read_back_folds_what_a_text_message_cannot_carry():
    text = summary_text(
        {"kind": "compliment", "person": "Zoë \U0001f600 at the café", "description": "Thanks"}, CATALOG
    )
    assert "Who: Zoe at the café" in text  # é is in GSM-7; ë and the emoji are not
    assert gsm_safe("naïve “quotes”") == "naive quotes"


@pytest.mark.parametrize(
    "text, kind, slots",
    [
        ("change the address", "complaint", ("location",)),
        ("the date is wrong", "compliment", ("when",)),
        ("wrong phone number", "service_request", ("contact_method", "contact_phone", "contact_email", "consent")),
        ("change the name", "compliment", ("person",)),
        ("that's the wrong department", "complaint", ("division",)),
    ],
)
def test_which_part_to_change(text, kind, slots):
    assert change_target(text, kind).slots == slots


def test_no_part_named_means_no_change():
    assert change_target("yes please", "complaint") is None


# Words of the city's streets and of everyday reports that have a reference's shape (a C, P or S and 7 letters).
REFERENCE_SHAPED_WORDS = [
    "Crescent",
    "Sheppard",
    "Strachan",
    "Saturday",
    "parkette",
    "pavement",
    "pharmacy",
    "shrugged",
    "stranded",
    "students",
]


@pytest.mark.parametrize("word", REFERENCE_SHAPED_WORDS)
def test_a_word_shaped_like_a_reference_is_never_taken_for_one(word):
    for text in (f"the van outside 31 {word} Rd", f"{word}", f"near {word} and Main"):
        assert reference_in(text) is None, text  # no hyphen, and nothing says it is a reference
    # Introduced as a reference, a word still needs a right check character (1 word in 31 has one by chance).
    shaped = f"{word[0]}-{word[1:]}".upper()
    assert reference_in(f"my reference is {word}") == (shaped if case_references.is_valid(shaped) else None)


def test_a_reference_is_taken_with_its_hyphen_or_when_introduced_and_its_check_character_holds():
    reference = case_references.generate("service_request")
    joined = reference.replace("-", "")
    assert reference_in(f"I reported it as {reference} last week") == reference
    assert reference_in(f"my reference is {joined.lower()}") == reference
    assert reference_in(f"case # {joined}") == reference
    assert reference_in(f"it was {joined}") is None  # no hyphen and nothing says it is a reference
    wrong = reference[:-1] + next(c for c in case_references.ALPHABET if c != reference[-1])
    assert reference_in(f"I reported it as {wrong}") is None
    # Asked for a reference, the resident's answer is taken as given; the backend says whether it exists.
    assert reference_in(wrong.replace("-", " "), offered=True) == wrong
