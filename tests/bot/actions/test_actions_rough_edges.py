"""Rough edges residents hit (issue 20): extra questions that trapped them, answers taken that were not answers,
places that lost detail, reports with no team, corrections out of turn. Real trackers, the real catalog."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from bot_testing import catalog_json, make_tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import catalog
from actions.forms import ValidateReportForm
from actions.questions import ask_service_extra

CATALOG = catalog.Catalog.from_json(catalog_json())
POTHOLE = {
    "kind": "service_request",
    "service_code": "TS-POTHOLE",
    "description": "big pothole",
    "location": "queen st near spadina",
}


def validate(slot: str, value: Any, slots: dict[str, Any] | None = None, intent: str = "inform"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={**(slots or {}), "requested_slot": slot},
        text=value,
        intent=intent,
        active_loop="report_form",
        candidates={slot: value},
    )
    result = getattr(ValidateReportForm(), f"validate_{slot}")(value, dispatcher, tracker, {})
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result, [m.get("response") or m.get("text") for m in dispatcher.messages]


# 1. Extra questions that trap people -------------------------------------------------------------------------------


def test_an_optional_extra_question_says_what_it_wants_with_buttons(known_catalog):
    dispatcher = CollectingDispatcher()
    asyncio.run(ask_service_extra(dispatcher, make_tracker(slots=POTHOLE)))
    [message] = dispatcher.messages
    assert message["text"] == "Which part of the road is it in? You can say skip."
    assert "number" not in message["text"].lower()
    assert [b["payload"] for b in message["buttons"]] == ["Curb lane", "Middle lane", "Bike lane", "Intersection"]


def test_the_street_again_to_an_optional_extra_question_moves_on_instead_of_failing(known_catalog):
    result, responses = validate("service_extra", "queen st near spadina", POTHOLE)
    assert result["service_attributes"] == {"lane_position": ""} and result["service_extra"] is None
    assert result["failed_answers"] == 0 and "callback_offered" not in result
    assert responses == ["utter_extra_skipped"]


def test_an_optional_extra_question_never_ends_in_a_hand_off(known_catalog):
    result, responses = validate("service_extra", "what?", {**POTHOLE, "failed_answers": 2})
    assert "callback_offered" not in result and responses == ["utter_extra_skipped"]


def test_a_button_payload_answers_the_extra_question(known_catalog):
    assert validate("service_extra", "Bike lane", POTHOLE)[0]["service_attributes"] == {"lane_position": "bike_lane"}
    assert validate("service_extra", "skip", POTHOLE)[0]["service_attributes"] == {"lane_position": ""}


# 2. Answers taken that are not answers -----------------------------------------------------------------------------

COMPLAINT = {"kind": "complaint", "description": "nobody fixed the light", "repeat_report": True}


@pytest.mark.parametrize(
    "answer, intent", [("yes", "affirm"), ("no", "deny"), ("yes please", "affirm"), ("Nope", "deny")]
)
def test_a_bare_yes_or_no_is_not_the_outcome_wanted(known_catalog, answer, intent):
    result, responses = validate("outcome", answer, COMPLAINT, intent=intent)
    assert result["outcome"] is None and responses == ["utter_outcome_in_words"]


def test_an_outcome_in_words_is_kept_even_when_it_starts_with_yes(known_catalog):
    assert validate("outcome", "yes, fix the light", COMPLAINT, intent="affirm")[0]["outcome"] == "yes, fix the light"
    assert validate("outcome", "not sure", COMPLAINT)[0]["outcome"] == "not sure"


def test_yes_to_the_reference_question_asks_for_the_number_and_no_means_they_have_none(known_catalog):
    result, responses = validate("linked_reference", "yes", COMPLAINT, intent="affirm")
    assert result["linked_reference"] is None and responses == ["utter_reference_ask_number"]
    assert validate("linked_reference", "no", COMPLAINT, intent="deny")[0]["linked_reference"] == ""
    assert (
        validate("linked_reference", "yes it's S-4F7KQ2M", COMPLAINT, intent="affirm")[0]["linked_reference"]
        == "S-4F7KQ2M"
    )


# 3. Places lose detail ---------------------------------------------------------------------------------------------


def _entity(text: str, value: str) -> dict[str, Any]:
    start = text.index(value)
    return {"entity": "location", "value": value, "start": start, "end": start + len(value)}


@pytest.mark.parametrize(
    "text, street, kept",
    [
        ("big pothole on queen st near spadina", "queen st", "queen st near spadina"),
        (
            "broken light on Dundas St, across from the school. please fix",
            "Dundas St",
            "Dundas St across from the school",
        ),
        ("there's a hole outside the library on Elm St", "Elm St", "outside the library on Elm St"),
        (
            "garbage on Bloor St between Christie and Bathurst since monday",
            "Bloor St",
            "Bloor St between Christie and Bathurst",
        ),
        ("pothole on Queen St W near Spadina Ave and it is huge", "Queen St W", "Queen St W near Spadina Ave"),
        ("the streetlight at 10 Elm St is out", "10 Elm St", "10 Elm St"),
        ("loud music on Elm St at night", "Elm St", "Elm St"),
        ("pothole on Elm St by the way it is huge", "Elm St", "Elm St"),
    ],
)
def test_the_first_message_keeps_cross_streets_and_landmarks(text, street, kept):
    from actions.report import ActionStartReport

    tracker = make_tracker(text=text, intent="service_request", entities=[_entity(text, street)])
    events = asyncio.run(ActionStartReport().run(CollectingDispatcher(), tracker, {}))
    assert {e["name"]: e["value"] for e in events if e.get("event") == "slot"}["location"] == kept


def test_a_place_found_in_another_answer_keeps_its_detail(known_catalog):
    text = "it's a big pothole on queen st near spadina"
    tracker = make_tracker(
        slots={"kind": "service_request", "requested_slot": "description"},
        text=text,
        entities=[_entity(text, "queen st")],
        active_loop="report_form",
        candidates={"description": text, "location": "queen st"},
    )
    result = ValidateReportForm().validate_location("queen st", CollectingDispatcher(), tracker, {})
    assert result["location"] == "queen st near spadina"


def test_the_read_back_says_when_part_of_the_place_was_missed(known_catalog):
    from actions.summary import summary_text

    slots = {
        "kind": "service_request",
        "description": "big pothole on queen st near spadina",
        "contact_method": "anonymous",
    }
    assert "Where: queen st (I may have missed part of the place)" in summary_text(
        {**slots, "location": "queen st"}, CATALOG
    )
    whole = summary_text({**slots, "location": "queen st near spadina"}, CATALOG)
    assert "Where: queen st near spadina\n" in whole and "missed" not in whole
    answered = summary_text({**slots, "location": "45 Elm Street"}, CATALOG)  # given as its own answer
    assert "missed" not in answered


# 6. Corrections out of turn ----------------------------------------------------------------------------------------

LIGHT = {
    "kind": "service_request",
    "description": "the streetlight at 10 Elm St is out",
    "location": "10 Elm St",
    "service_code": "TS-STREETLIGHT",
    "public_consent": False,
    "notice_shown": True,
}


def _run_form(slots: dict[str, Any], requested: str, text: str, entities=None):
    from test_actions_forms import domain

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={**slots, "requested_slot": requested},
        text=text,
        intent="change_field",
        entities=entities,
        active_loop="report_form",
        candidates={requested: text},
    )
    events = asyncio.run(ValidateReportForm().run(dispatcher, tracker, domain()))
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, dispatcher.messages


def test_a_correction_at_the_contact_question_changes_the_address_and_asks_again(known_catalog):
    values, messages = _run_form(LIGHT, "contact_method", "oops, I meant number 12, not 10")
    assert values["location"] == "12 Elm St" and values["description"] == "the streetlight at 12 Elm St is out"
    assert values["contact_method"] is None and values["requested_slot"] == "contact_method"
    assert [(m["response"], m.get("value")) for m in messages] == [
        ("utter_changed_to", "12 Elm St"),
        ("utter_request_contact_method", None),
    ]


def test_a_new_place_given_as_a_correction_replaces_the_old_one(known_catalog):
    text = "sorry, I meant 14 Oak Ave near the school"
    values, messages = _run_form(LIGHT, "public_consent", text, [_entity(text, "14 Oak Ave")])
    assert values["location"] == "14 Oak Ave near the school" and values["public_consent"] is None
    assert values["requested_slot"] == "public_consent" and messages[0]["response"] == "utter_changed_to"


def test_a_part_named_as_wrong_is_asked_again_first(known_catalog):
    values, messages = _run_form(LIGHT, "contact_method", "oops, I got the address wrong")
    assert values["location"] is None and values["requested_slot"] == "location"
    assert [m["response"] for m in messages] == ["utter_change_field"]


@pytest.mark.parametrize("text", ["phone", "I mean the whole street is dark", "no thanks"])
def test_ordinary_answers_are_not_corrections(known_catalog, text):
    values, _ = _run_form(LIGHT, "contact_method", text)
    assert values.get("location", "10 Elm St") == "10 Elm St"
