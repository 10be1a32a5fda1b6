"""The rule-based spaCy pipeline finds places, dates and times, named staff, phones, emails and reference numbers."""

from __future__ import annotations

import build_spacy
import pytest
import spacy


@pytest.fixture(scope="module")
def nlp(tmp_path_factory):
    target = tmp_path_factory.mktemp("spacy") / "rules"
    build_spacy.build(target)
    return spacy.load(target)  # loaded by path, as Rasa's SpacyNLP does


def found(nlp, text):
    return [(ent.text, ent.label_) for ent in nlp(text).ents]


@pytest.mark.parametrize(
    "text, place",
    [
        ("pothole at 12 Elm St. near the school", "12 Elm St."),
        ("the bin at 45 elm street wasnt emptied", "45 elm street"),
        ("unit 4, 1200 Bloor St W has no water", "unit 4, 1200 Bloor St W"),
        ("4-12 Elm Street East is flooded", "4-12 Elm Street East"),
        ("12B Pape Ave", "12B Pape Ave"),
        ("streetlight out at the corner of queen and spadina", "corner of queen and spadina"),
        ("Queen St W & Spadina Ave signal is broken", "Queen St W & Spadina Ave"),
        ("88 harbord stret", "88 harbord stret"),
        ("garbage wasnt picked up on elm st again", "elm st"),
        ("my postal code is M5V 2T6", "M5V 2T6"),
        ("postal code m4c1a1", "m4c1a1"),
        ("the washrooms at High Park are locked", "High Park"),
        ("Nathan Phillips Square rink is closed", "Nathan Phillips Square"),
        ("staff at Scadding Court Community Centre", "Scadding Court Community Centre"),
        ("broken glass in Riverdale Park East", "Riverdale Park East"),
    ],
)
def test_places(nlp, text, place):
    assert (place, "location") in found(nlp, text)


@pytest.mark.parametrize(
    "text",
    [
        "the crew on my street was great",
        "Mike and Dave were amazing",
        "There is a big pothole in the right lane",
        "the tennis court nets are torn",
        "I called three times",
        "The Park was dirty",
        "I love the library",
    ],
)
def test_no_place_where_there_is_none(nlp, text):
    assert [label for _, label in found(nlp, text)] == []


def test_phones_emails_and_references(nlp):
    text = "call 416-555-0123 or (416) 555-0123 or 4165550123, email jo@example.com, about S-4F7KQ2X"
    assert found(nlp, text) == [
        ("416-555-0123", "phone"),
        ("(416) 555-0123", "phone"),
        ("4165550123", "phone"),
        ("jo@example.com", "email"),
        ("S-4F7KQ2X", "reference"),
    ]
    assert ("c-9mpx3tr", "reference") in found(nlp, "what about c-9mpx3tr")


@pytest.mark.parametrize(
    "text, when",
    [
        ("my bin wasnt picked up yesterday morning", "yesterday morning"),
        ("it happened last Tuesday", "last Tuesday"),
        ("every Thursday the bin is missed", "every Thursday"),
        ("on March 3rd, 2024 the road flooded", "March 3rd, 2024"),
        ("the 3rd of March", "3rd of March"),
        ("I reported it 3 weeks ago", "3 weeks ago"),
        ("a few days ago", "a few days ago"),
        ("water off since Monday", "since Monday"),
        ("on 2024-05-01", "2024-05-01"),
        ("on 05/03/2024", "05/03/2024"),
        ("the alarm went off around 7 pm", "around 7 pm"),
        ("no pickup this week", "this week"),
        ("last night the light was out", "last night"),
        ("in October", "in October"),
    ],
)
def test_dates_and_times(nlp, text, when):
    assert (when, "date_time") in found(nlp, text)


@pytest.mark.parametrize("text", ["I may call again", "they sat there for hours", "the sun was out", "day one"])
def test_no_date_in_ordinary_words(nlp, text):
    assert [label for _, label in found(nlp, text)] == []


@pytest.mark.parametrize(
    "text, who",
    [
        ("Officer Patel was so kind to my son", "Officer Patel"),
        ("the driver Maria helped my mom with her walker", "driver Maria"),
        ("Ms. Okafor at the library found my book", "Ms. Okafor"),
        ("big thanks to Inspector Jean Tremblay", "Inspector Jean Tremblay"),
    ],
)
def test_staff_named_with_their_title(nlp, text, who):
    assert (who, "person") in found(nlp, text)


def test_a_place_and_a_time_in_one_message(nlp):
    assert found(nlp, "the light at 12 Elm St was out this morning") == [
        ("12 Elm St", "location"),
        ("this morning", "date_time"),
    ]


def test_a_title_without_a_name_is_not_a_person(nlp):
    assert found(nlp, "thanks to the bus driver on the 504 and the officer who helped") == []


@pytest.mark.parametrize("text", ["the van outside 31 Crescent Rd", "Sheppard and Strachan", "see you saturday"])
def test_words_are_never_references(nlp, text):
    assert [label for _, label in found(nlp, text) if label == "reference"] == []
