"""The clarifying question when the classifier hesitates between two kinds, and changing the kind in the read-back."""

from __future__ import annotations

import asyncio

from bot_testing import make_tracker
from rasa_sdk.executor import CollectingDispatcher
from test_actions_forms import CATALOG, validate

from actions import kind_choice
from actions.flow import report_questions
from actions.questions import ask_kind_check
from actions.report import ActionStartReport, build_case

CLOSE = [
    {"name": "complaint", "confidence": 0.48},
    {"name": "service_request", "confidence": 0.41},
    {"name": "out_of_scope", "confidence": 0.05},
]
SURE = [{"name": "service_request", "confidence": 0.93}, {"name": "complaint", "confidence": 0.04}]


def _values(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_it_asks_only_when_two_kinds_are_close():
    assert kind_choice.unsure_between("complaint", CLOSE) == ("service_request", "complaint")
    assert kind_choice.unsure_between("service_request", SURE) is None
    assert kind_choice.unsure_between("greet", CLOSE) is None
    praise = [{"name": "compliment", "confidence": 0.5}, {"name": "complaint", "confidence": 0.3}]
    assert kind_choice.unsure_between("compliment", praise) == ("compliment", "complaint")


def test_answers_by_number_words_or_naming_the_kind():
    options = ("service_request", "complaint")
    assert kind_choice.chosen_kind("1", options) == "service_request"
    assert kind_choice.chosen_kind("2", options) == "complaint"
    assert kind_choice.chosen_kind("just fix it please", options) == "service_request"
    assert kind_choice.chosen_kind("I'm not happy with how they handled it", options) == "complaint"
    assert kind_choice.chosen_kind("it's a complaint", options) == "complaint"
    assert kind_choice.chosen_kind("banana", options) is None
    assert kind_choice.chosen_kind("not happy at all", ("compliment", "complaint")) == "complaint"
    assert kind_choice.chosen_kind("thanks to them", ("compliment", "complaint")) == "compliment"


def test_a_hesitant_first_message_makes_the_form_ask_the_kind_first():
    tracker = make_tracker(text="the sidewalk on Elm St was left half cleared again", intent="complaint", ranking=CLOSE)
    values = _values(asyncio.run(ActionStartReport().run(CollectingDispatcher(), tracker, {})))
    assert values["kind_options"] == "service_request complaint"
    assert report_questions(values, CATALOG) == ["kind_check"]
    sure = make_tracker(text="pothole on Elm St", intent="service_request", ranking=SURE)
    assert _values(asyncio.run(ActionStartReport().run(CollectingDispatcher(), sure, {})))["kind_options"] is None


def test_the_question_offers_the_two_kinds():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"kind": "complaint", "kind_options": "service_request complaint"})
    asyncio.run(ask_kind_check(dispatcher, tracker))
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_kind_fix_or_complaint"]


def test_the_answer_sets_the_kind_and_the_next_questions_follow_it():
    slots = {"kind": "complaint", "kind_options": "service_request complaint", "description": "ice on the walk"}
    result, said = validate("kind_check", "get it fixed", slots)
    assert (result["kind"], result["kind_check"], said) == ("service_request", "service_request", [])
    assert report_questions({**slots, **result}, CATALOG)[:3] == ["kind_check", "description", "location"]


def test_an_unclear_answer_is_asked_once_more_then_the_guess_is_kept():
    slots = {"kind": "complaint", "kind_options": "service_request complaint"}
    result, said = validate("kind_check", "hmm", slots)
    assert result["kind_check"] is None and said == ["utter_kind_not_understood"]
    result, said = validate("kind_check", "hmm", {**slots, "failed_answers": 1})
    assert result["kind_check"] == "complaint" and said == ["utter_kind_kept"]


def test_the_read_back_can_change_the_kind():
    slots = {
        "kind": "service_request",
        "description": "the crew was rude",
        "location": "Elm St",
        "public_consent": False,
        "contact_method": "anonymous",
    }
    result, said = validate("confirmed", "no, it's a complaint", slots)
    assert result["kind"] == "complaint" and result["confirmed"] is None and said == ["utter_kind_changed"]
    following = report_questions({**slots, **result}, CATALOG)
    assert "outcome" in following and "complaint_category" in following


def test_public_consent_is_asked_of_requests_and_sent_with_the_case():
    result, _ = validate("public_consent", "yes", {"kind": "service_request"})
    assert result["public_consent"] is True
    result, _ = validate("public_consent", "not sure", {"kind": "service_request"})
    assert result["public_consent"] is False
    slots = {"kind": "service_request", "description": "pothole", "location": "Elm St", "public_consent": True}
    assert build_case(make_tracker(slots=slots), CATALOG)["public_consent"] is True
    complaint = {**slots, "kind": "complaint"}
    assert "public_consent" not in build_case(make_tracker(slots=complaint), CATALOG)
