"""Rasa checks the action server's answers with a validator built once (stores/action_results.py), and still
refuses a malformed answer with Rasa's own error."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

import stores  # noqa: F401  (installs the check, as loading the endpoints file does)
from stores.action_results import validate_action_result

GOOD = {
    "events": [{"event": "slot", "timestamp": None, "name": "location", "value": "45 Elm Street"},
               {"event": "active_loop", "name": "report_form"}],
    "responses": [{"text": "When did it happen?", "buttons": [], "response": None}],
}
MALFORMED = [
    {"events": [{"event": "slot", "name": 3}]},  # a slot's name must be text
    {"events": [{"timestamp": 1.0}]},  # an event must say what it is
    {"events": "not a list"},
]


def action() -> RemoteAction:
    return RemoteAction("validate_report_form", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_rasa_uses_the_validator_built_once():
    assert RemoteAction._validate_action_result is validate_action_result
    assert action()._validate_action_result(GOOD) is True


@pytest.mark.parametrize("answer", MALFORMED)
def test_a_malformed_answer_is_refused_as_rasa_refuses_it(answer):
    with pytest.raises(jsonschema.ValidationError) as ours:
        action()._validate_action_result(answer)
    with pytest.raises(jsonschema.ValidationError) as rasas:
        jsonschema.validate(answer, RemoteAction.action_response_format_spec())
    assert ours.value.message.startswith(rasas.value.message)
    assert "Failed to validate Action server response" in ours.value.message
