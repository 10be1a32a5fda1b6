"""The report and status forms: which questions each kind asks, how each answer is read, and what happens when an
answer does not work. Real trackers and dispatchers; the catalog is the real backend/catalog.yml."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from bot_testing import FakeBackend, catalog_json, make_tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import catalog
from actions.flow import report_questions
from actions.forms import ValidateReportForm, ValidateStatusForm
from actions.questions import ask_complaint_category, ask_confirmed, ask_division, ask_service_extra

ROOT = Path(__file__).resolve().parents[3]
CATALOG = catalog.Catalog.from_json(catalog_json())


def domain() -> dict[str, Any]:
    """Return the forms and slots of the real domain, as Rasa sends them to the action server."""
    merged: dict[str, Any] = {"forms": {}, "slots": {}}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text())
        merged["forms"].update(data.get("forms") or {})
        merged["slots"].update(data.get("slots") or {})
    return merged


def validate(
    slot: str,
    value: Any,
    slots: dict[str, Any] | None = None,
    text: str | None = None,
    intent: str = "inform",
    form: Any = None,
):
    """Run validate_<slot> for an answer to the question about `slot`; return (result, responses uttered)."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={**(slots or {}), "requested_slot": slot},
        text=text if text is not None else value,
        intent=intent,
        active_loop="report_form",
        candidates={slot: value},
    )
    method = getattr(form or ValidateReportForm(), f"validate_{slot}")
    result = method(value, dispatcher, tracker, {})
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result, [m.get("response") or m.get("text") for m in dispatcher.messages]


# Which questions, in which order ----------------------------------------------------------------------------------


def test_a_complaint_asks_what_where_when_team_topic_outcome_contact_then_confirms():
    assert report_questions({"kind": "complaint"}, CATALOG) == [
        "description",
        "location",
        "when",
        "division",
        "complaint_category",
        "outcome",
        "contact_method",
        "confirmed",
    ]
    by_phone = report_questions({"kind": "complaint", "contact_method": "phone"}, CATALOG)
    assert by_phone[-3:] == ["contact_phone", "consent", "confirmed"]
    assert "linked_reference" in report_questions({"kind": "complaint", "repeat_report": True}, CATALOG)


def test_a_compliment_asks_who_and_contact_only_if_they_want_to_hear_back():
    assert report_questions({"kind": "compliment"}, CATALOG) == [
        "person",
        "description",
        "location",
        "when",
        "hear_back",
        "confirmed",
    ]
    assert "contact_method" in report_questions({"kind": "compliment", "hear_back": True}, CATALOG)


def test_a_service_request_asks_the_catalogs_extra_questions_while_any_are_unanswered():
    slots = {"kind": "service_request", "service_code": "SWMS-MISSED-PICKUP"}
    assert report_questions(slots, CATALOG) == [
        "description",
        "location",
        "service_extra",
        "public_consent",
        "contact_method",
        "confirmed",
    ]
    answered = {**slots, "service_attributes": {"stream": ["garbage"], "collection_date": ""}}
    assert "service_extra" not in report_questions(answered, CATALOG)
    assert "service_extra" not in report_questions({**slots, "service_code": "TS-STREETLIGHT"}, CATALOG)


def test_a_repeat_service_request_first_offers_a_complaint():
    assert report_questions({"kind": "service_request", "repeat_report": True}, CATALOG) == ["switch_to_complaint"]


def test_a_phone_number_given_unasked_is_the_choice_of_contact():
    questions = report_questions({"kind": "service_request", "contact_phone": "4165550123"}, CATALOG)
    assert "contact_method" not in questions and questions[-3:] == ["contact_phone", "consent", "confirmed"]


def test_a_call_back_asks_yes_or_no_then_the_number_and_a_no_resumes_the_report():
    offered = {"kind": "complaint", "callback_offered": True}
    assert report_questions(offered, CATALOG) == ["callback_wanted"]
    assert report_questions({**offered, "callback_wanted": True}, CATALOG) == ["callback_wanted", "contact_phone"]
    assert report_questions({**offered, "callback_wanted": False}, CATALOG)[1] == "description"
    assert report_questions({"callback_offered": True, "callback_wanted": False}, CATALOG) == ["callback_wanted"]


def test_the_form_asks_the_next_question_itself_when_its_words_are_made_here(known_catalog):
    slots = {"kind": "service_request", "description": "Pothole", "location": "Queen St", "public_consent": False}
    tracker = make_tracker(
        slots={**slots, "requested_slot": "location"},
        text="Queen St",
        intent="inform",
        active_loop="report_form",
        candidates={"location": "Queen St"},
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateReportForm().run(dispatcher, tracker, domain()))
    assert events[-2]["name"] == "requested_slot" and events[-2]["value"] == "contact_method"
    assert events[-1]["name"] == "notice_shown"
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_notice_of_collection",
        "utter_request_contact_method",
    ]


def test_an_interruption_is_left_to_the_rules(known_catalog):
    slots = {
        "kind": "service_request",
        "description": "Pothole",
        "location": "Queen St",
        "requested_slot": "contact_method",
    }
    tracker = make_tracker(
        slots=slots, text="why do you need that?", intent="ask_why", active_loop="report_form", candidates={}
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateReportForm().run(dispatcher, tracker, domain()))
    assert [e["name"] for e in events] == ["requested_slot"] and dispatcher.messages == []


def test_the_form_requests_the_first_missing_question(known_catalog):
    slots = {"kind": "complaint", "description": "The officer was rude"}
    tracker = make_tracker(
        slots={**slots, "requested_slot": "location"},
        text="45 Elm Street",
        intent="inform",
        active_loop="report_form",
        candidates={"location": "45 Elm Street"},
    )
    events = asyncio.run(ValidateReportForm().run(CollectingDispatcher(), tracker, domain()))
    assert {"event": "slot", "timestamp": None, "name": "location", "value": "45 Elm Street"} in events
    assert events[-1]["name"] == "requested_slot" and events[-1]["value"] == "when"


# Reading answers --------------------------------------------------------------------------------------------------


def test_empty_and_overlong_answers_are_refused_plainly(known_catalog):
    assert validate("description", "  ?! ")[0]["description"] is None
    assert validate("description", "x" * 4001)[1] == ["utter_too_long"]
    assert validate("location", "Elm " * 200)[0]["location"] is None
    assert validate("description", " Bin not emptied ")[0]["description"] == "Bin not emptied"


def test_the_story_guesses_the_service_and_notices_a_repeat_report(known_catalog):
    result, _ = validate(
        "description",
        "I reported the pothole on Dufferin 3 weeks ago and nothing was done",
        slots={"kind": "service_request"},
    )
    assert result["service_code"] == "TS-POTHOLE" and result["repeat_report"] is True


def test_the_offered_team_is_taken_on_a_yes_and_a_no_shows_the_list(known_catalog):
    guessed = {"kind": "complaint", "division_guess": "SWMS"}
    assert validate("division", "yes", guessed, intent="affirm")[0]["division"] == "SWMS"
    result, responses = validate("division", "no", guessed, intent="deny")
    assert result == {"division": None, "division_guess": ""} and responses == []
    assert validate("division", "no, it's toronto water", guessed, intent="deny")[0]["division"] == "TW"
    assert validate("division", "3", {"kind": "complaint", "division_guess": ""})[0]["division"] == "UF"
    assert validate("division", "not sure", {"kind": "complaint", "division_guess": ""})[0]["division"] == "unsure"
    assert validate("division", "purple", {"kind": "complaint", "division_guess": ""})[1] == ["utter_choose_from_list"]


def test_a_team_named_in_passing_is_kept_without_asking(known_catalog):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"requested_slot": "description"}, candidates={"division": "Toronto Water"})
    result = asyncio.run(ValidateReportForm().validate_division("Toronto Water", dispatcher, tracker, {}))
    assert result == {"division": "TW"}


def test_the_offered_category_is_taken_on_a_yes_or_another_is_picked(known_catalog):
    guessed = {"kind": "complaint", "category_guess": "staff"}
    assert validate("complaint_category", "yes", guessed, intent="affirm")[0]["complaint_category"] == "staff"
    assert validate("complaint_category", "no", guessed, intent="deny")[0]["category_guess"] == ""
    assert validate("complaint_category", "6", {"category_guess": ""})[0]["complaint_category"] == "policy"
    assert (
        validate("complaint_category", "it's about the fee", {"category_guess": ""})[0]["complaint_category"]
        == "charge"
    )


def test_contact_choices_in_everyday_words(known_catalog):
    method = lambda text: validate("contact_method", text)[0].get("contact_method")  # noqa: E731
    assert method("phone me") == "phone"
    assert method("by email please") == "email"
    assert method("here is fine") == "channel"
    assert method("no thanks") == "anonymous"
    assert validate("contact_method", "call 416 555 0123")[0]["contact_phone"] == "4165550123"
    assert validate("contact_method", "jo@example.com")[0]["contact_email"] == "jo@example.com"
    assert validate("contact_method", "none")[1] == ["utter_anonymous_note"]


def test_phone_and_email_answers(known_catalog):
    assert validate("contact_phone", "(416) 555-0123")[0]["contact_phone"] == "4165550123"
    assert validate("contact_phone", "12345")[1] == ["utter_phone_not_understood"]
    switched = validate("contact_phone", "use my email jo@example.com instead")[0]
    assert (switched["contact_method"], switched["contact_email"]) == ("email", "jo@example.com")
    assert validate("contact_email", "jo at example")[1] == ["utter_email_not_understood"]
    assert validate("contact_email", "never mind, none")[0]["contact_method"] == "anonymous"


def test_no_consent_drops_the_contact_details(known_catalog):
    result, responses = validate("consent", "no", {"contact_phone": "4165550123"}, intent="deny")
    assert result["consent"] is False and result["contact_method"] == "anonymous" and result["contact_phone"] is None
    assert responses == ["utter_consent_declined"]


def test_the_read_back_sends_on_yes_and_changes_just_the_part_named(known_catalog):
    slots = {"kind": "complaint", "location": "45 Elm St", "division": "SWMS", "division_guess": "SWMS"}
    assert validate("confirmed", "yes", slots, intent="affirm")[0]["confirmed"] is True
    result, responses = validate("confirmed", "change the address", slots, intent="change_field")
    assert result["location"] is None and result["confirmed"] is None and responses == ["utter_change_field"]
    team, _ = validate("confirmed", "wrong department", slots, intent="change_field")
    assert team["division"] is None and team["division_guess"] == ""  # the list is shown, not the same guess
    result, _ = validate("confirmed", "no", slots, intent="deny")
    assert result["change_requested"] is True and result["confirmed"] is None


def test_a_new_value_given_with_the_change_is_kept(known_catalog):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={"kind": "complaint", "requested_slot": "confirmed", "location": "45 Elm St"},
        text="change the address to 12 Oak Ave",
        intent="change_field",
        candidates={"confirmed": "change the address to 12 Oak Ave", "location": "12 Oak Ave"},
    )
    result = ValidateReportForm().validate_confirmed("change the address to 12 Oak Ave", dispatcher, tracker, {})
    assert "location" not in result and result["confirmed"] is None
    assert [m["response"] for m in dispatcher.messages] == ["utter_changed"]


def test_the_third_failed_answer_offers_a_person(known_catalog):
    assert validate("consent", "banana")[0]["failed_answers"] == 1
    assert validate("consent", "banana", {"failed_answers": 1})[0]["failed_answers"] == 2
    result, responses = validate("consent", "banana", {"failed_answers": 2})
    assert responses == ["utter_offer_person_after_failures"]
    assert result["callback_offered"] is True and result["consent"] is None and result["failed_answers"] == 0


def test_declining_the_call_back_carries_on_with_the_report(known_catalog):
    result, responses = validate("callback_wanted", "no", {"kind": "complaint"}, intent="deny")
    assert result["callback_wanted"] is False and responses == ["utter_carry_on"]
    assert validate("callback_wanted", "yes call 416 555 0100", intent="affirm")[0]["callback_wanted"] is True


def test_the_catalogs_extra_questions_are_read_by_number_or_name(known_catalog):
    request = {"kind": "service_request", "service_code": "SWMS-MISSED-PICKUP"}
    result, _ = validate("service_extra", "green bin and 2", request)
    assert result["service_attributes"] == {"stream": ["green_bin", "recycling"]} and result["service_extra"] is None
    answered = {**request, "service_attributes": {"stream": ["garbage"]}}
    assert validate("service_extra", "skip", answered)[0]["service_attributes"]["collection_date"] == ""
    assert validate("service_extra", "skip", request)[1] == ["utter_extra_not_understood"]  # a required one
    tree = {"kind": "service_request", "service_code": "UF-FALLEN-TREE"}
    assert validate("service_extra", "yes it is", tree, intent="affirm")[0]["service_attributes"] == {"blocking": "yes"}


def test_switching_a_repeat_request_to_a_complaint(known_catalog):
    result, _ = validate("switch_to_complaint", "yes", {"kind": "service_request"}, intent="affirm")
    assert result["kind"] == "complaint" and result["switch_to_complaint"] is True


def test_the_earlier_reference_or_none(known_catalog):
    assert validate("linked_reference", "it was s 4f7kq2m")[0]["linked_reference"] == "S-4F7KQ2M"
    assert validate("linked_reference", "I don't have it")[0]["linked_reference"] == ""
    assert validate("linked_reference", "banana")[1] == ["utter_reference_shape"]


# Questions whose words depend on the story or the catalog -------------------------------------------------------


def _ask(ask: Any, slots: dict[str, Any]):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ask(dispatcher, make_tracker(slots=slots)))
    return dispatcher.messages, events


def test_the_team_is_offered_from_the_service_or_listed(known_catalog):
    messages, events = _ask(ask_division, {"service_code": "TS-POTHOLE"})
    assert messages[0]["response"] == "utter_ask_division_guess" and messages[0]["team"] == "Transportation Services"
    assert events[0]["value"] == "TS"
    messages, _ = _ask(ask_division, {"division_guess": ""})
    assert (
        messages[0]["response"] == "utter_ask_division_menu"
        and "5 Solid Waste Management Services" in messages[0]["menu"]
    )


def test_the_category_is_offered_from_the_story(known_catalog):
    messages, events = _ask(ask_complaint_category, {"description": "why was I charged a $75 fee"})
    assert messages[0]["category"] == "a charge or fee" and events[0]["value"] == "charge"
    messages, _ = _ask(ask_complaint_category, {"description": "hello there"})
    assert messages[0]["response"] == "utter_ask_category_menu"


def test_extra_questions_list_their_choices(known_catalog):
    messages, _ = _ask(ask_service_extra, {"service_code": "TS-POTHOLE"})
    assert messages[0]["text"] == "Which part of the road is it in? You can say skip."
    assert [b["title"] for b in messages[0]["buttons"]] == ["Curb lane", "Middle lane", "Bike lane", "Intersection"]
    messages, _ = _ask(ask_service_extra, {"service_code": "UF-FALLEN-TREE"})
    assert messages[0]["text"] == "Is it blocking a road or sidewalk?"
    messages, _ = _ask(ask_service_extra, {"service_code": "SWMS-MISSED-PICKUP"})
    assert "Reply with one or more numbers: 1 Garbage, 2 Recycling, 3 Green bin" in messages[0]["text"]


def test_the_read_back_and_after_a_no_just_the_question(known_catalog):
    slots = {"kind": "service_request", "description": "Pothole", "location": "Queen St", "contact_method": "channel"}
    messages, _ = _ask(ask_confirmed, slots)
    assert messages[0]["text"].startswith("Here is your request:\nWhat: Pothole\nWhere: Queen St")
    assert messages[1]["response"] == "utter_request_confirmed"
    messages, _ = _ask(ask_confirmed, {**slots, "change_requested": True})
    assert [m["response"] for m in messages] == ["utter_ask_what_to_change"]


# The status form ---------------------------------------------------------------------------------------------------


def _status(monkeypatch, slot: str, value: str, slots: dict[str, Any], backend: FakeBackend, sender: str):
    async def scenario():
        async with backend:
            monkeypatch.setenv("INTAKE_BACKEND_URL", backend.url)
            backend.cases["S-AAAAAAA"] = {
                "reference": "S-AAAAAAA",
                "kind": "service_request",
                "status": "in_progress",
                "sender_id": "owner",
                "details": {"contact": {"phone": "4165550123"}},
            }
            dispatcher = CollectingDispatcher()
            tracker = make_tracker(
                slots={**slots, "requested_slot": slot},
                text=value,
                sender_id=sender,
                active_loop="status_form",
                candidates={slot: value},
            )
            result = await getattr(ValidateStatusForm(), f"validate_{slot}")(value, dispatcher, tracker, {})
            return result, [m["response"] for m in dispatcher.messages]

    return asyncio.run(scenario())


def test_status_for_the_owner_and_a_phone_check_for_anyone_else(monkeypatch, backend_env):
    result, _ = _status(monkeypatch, "status_reference", "s-aaaaaaa", {}, FakeBackend(), "owner")
    assert result["status_result"]["status"] == "in_progress"
    result, _ = _status(monkeypatch, "status_reference", "S-AAAAAAA", {}, FakeBackend(), "stranger")
    assert result["status_check_needed"] is True and "status_result" not in result
    given = {"status_reference": "S-AAAAAAA", "status_check_needed": True}
    result, _ = _status(monkeypatch, "status_phone_digits", "0123", given, FakeBackend(), "stranger")
    assert result["status_result"]["status"] == "in_progress" and result["status_phone_digits"] == "given"
    result, _ = _status(monkeypatch, "status_phone_digits", "9999", given, FakeBackend(), "stranger")
    assert result["status_result"] == {"state": "not_found"}


def test_a_mistyped_reference_gets_help_not_a_search(monkeypatch, backend_env):
    result, responses = _status(
        monkeypatch, "status_reference", "S-AAAAAAB", {}, FakeBackend(mistyped=["S-AAAAAAB"]), "owner"
    )
    assert result["status_reference"] is None and responses == ["utter_reference_mistyped"]
    result, responses = _status(monkeypatch, "status_reference", "my bin", {}, FakeBackend(), "owner")
    assert responses == ["utter_reference_shape"]


def test_questions_asked_by_the_validation_action_have_no_response_rasa_would_ask_too():
    """Rasa asks a slot with `utter_ask_<slot>` (or `utter_ask_report_form_<slot>`) when one exists: such a
    response for a question the validation action asks itself would put the question twice in one turn."""
    from actions.questions import QUESTIONS

    names = set()
    for path in (ROOT / "bot" / "domain").glob("*.yml"):
        names |= set(yaml.safe_load(path.read_text()).get("responses") or {})
        names |= set(yaml.safe_load(path.read_text()).get("actions") or [])
    clashes = [
        f"{prefix}{slot}"
        for slot in QUESTIONS
        for prefix in ("utter_ask_", "utter_ask_report_form_", "action_ask_", "action_ask_report_form_")
        if f"{prefix}{slot}" in names
    ]
    assert clashes == []
