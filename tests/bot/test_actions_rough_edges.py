"""Rough edges residents hit (issue 20): extra questions that trapped them, answers taken that were not answers,
places that lost detail, reports with no team, corrections out of turn. Real trackers, the real catalog."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict

import pytest
from bot_testing import backend_env, catalog_json, make_tracker  # noqa: F401  (fixture)
from rasa_sdk.executor import CollectingDispatcher

from actions import catalog
from actions.forms import ValidateReportForm
from actions.questions import ask_service_extra

CATALOG = catalog.Catalog.from_json(catalog_json())
POTHOLE = {"kind": "service_request", "service_code": "TS-POTHOLE", "description": "big pothole",
           "location": "queen st near spadina"}


@pytest.fixture
def known_catalog(backend_env):
    catalog._cache.update(catalog=CATALOG, fetched=time.monotonic(), failed=0.0)
    yield CATALOG


def validate(slot: str, value: Any, slots: Dict[str, Any] | None = None, intent: str = "inform"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={**(slots or {}), "requested_slot": slot}, text=value, intent=intent,
                           active_loop="report_form", candidates={slot: value})
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
