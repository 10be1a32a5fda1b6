"""Rasa checks the action server's answers with a validator built once (serving/action_results.py), and still
refuses a malformed answer with Rasa's own error."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from serving import action_results
from serving.action_results import answer_check, validate_action_result

GOOD = {
    "events": [
        {"event": "slot", "timestamp": None, "name": "location", "value": "45 Elm Street"},
        {"event": "active_loop", "name": "report_form"},
    ],
    "responses": [{"text": "When did it happen?", "buttons": [], "response": None}],
}
MALFORMED = [
    {"events": [{"event": "slot", "name": 3}]},  # a slot's name must be text
    {"events": [{"timestamp": 1.0}]},  # an event must say what it is
    {"events": "not a list"},
]


def action() -> RemoteAction:
    return RemoteAction("validate_report_form", EndpointConfig("http://127.0.0.1:1/webhook"))


@pytest.fixture
def installed(monkeypatch):
    """The check as the server installs it (serving/patches.py), Rasa's own given back afterwards."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    action_results.install()


@pytest.mark.usefixtures("installed")
def test_rasa_uses_the_validator_built_once():
    assert RemoteAction._validate_action_result is validate_action_result
    assert action()._validate_action_result(GOOD) is True


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("answer", MALFORMED)
def test_a_malformed_answer_is_refused_as_rasa_refuses_it(answer):
    with pytest.raises(jsonschema.ValidationError) as ours:
        action()._validate_action_result(answer)
    with pytest.raises(jsonschema.ValidationError) as rasas:
        jsonschema.validate(answer, RemoteAction.action_response_format_spec())
    assert ours.value.message.startswith(rasas.value.message)
    assert "Failed to validate Action server response" in ours.value.message


def test_the_quick_check_splits_rasas_schema_by_kind_of_event():
    check = answer_check()
    assert check.by_name is not None
    assert {"user", "slot", "action", "active_loop", "bot", "session_started"} <= set(check.by_name)
    assert check.is_valid({"events": GOOD_EVENTS, "responses": [{"text": "Thanks."}]})
    assert not check.is_valid({"events": [*GOOD_EVENTS, {"event": "slot", "value": "no name"}]})


NAMES = [
    "user",
    "slot",
    "action",
    "entities",
    "active_loop",
    "bot",
    "form",
    "followup",
    "restart",
    "reset_slots",
    "no_such_event",
    "",
    "Slot",
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
FIELDS = [
    "event",
    "name",
    "value",
    "timestamp",
    "metadata",
    "entities",
    "text",
    "parse_data",
    "policy",
    "confidence",
    "hide_rule_turn",
    "input_channel",
]
GOOD_EVENTS = [
    {"event": "slot", "name": "location", "value": "45 Elm Street", "timestamp": None},
    {"event": "action", "name": "utter_ask_when", "policy": None, "confidence": 1.0},
    {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 0.9}, "entities": []}},
    {"event": "active_loop", "name": "report_form"},
    {"event": "bot", "text": "When did it happen?", "metadata": {}},
    {"event": "entities", "entities": [{"entity": "location", "value": "Elm Street", "start": 0}]},
]
# A good event, sometimes with one field set to anything (which may or may not still fit its kind).
CHANGED_EVENTS = st.tuples(
    st.sampled_from(GOOD_EVENTS), st.sampled_from(FIELDS), st.one_of(VALUES, st.sampled_from(NAMES)), st.booleans()
).map(lambda t: {**t[0], t[1]: t[2]} if t[3] else t[0])
EVENTS = st.one_of(
    CHANGED_EVENTS,
    st.fixed_dictionaries(
        {"event": st.sampled_from(NAMES)}, optional={field: VALUES for field in FIELDS if field != "event"}
    ),
    st.dictionaries(st.sampled_from(FIELDS), st.one_of(VALUES, st.sampled_from(NAMES)), max_size=4),
    st.just({"event": "user", "parse_data": {"entities": [{"entity": "location"}]}}),  # an entity needs a value
    VALUES,
)
ANSWERS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "events": st.one_of(st.lists(EVENTS, max_size=4), st.lists(CHANGED_EVENTS, max_size=4), VALUES),
            "responses": st.one_of(st.lists(st.one_of(VALUES, st.just({"text": "Hi"})), max_size=2), VALUES),
        },
    ),
    VALUES,
)


@settings(max_examples=1500, deadline=None)
@given(ANSWERS)
def test_the_quick_check_gives_the_verdict_of_the_full_schema(answer):
    assert answer_check().is_valid(answer) == jsonschema.Draft7Validator(
        RemoteAction.action_response_format_spec()
    ).is_valid(answer)
