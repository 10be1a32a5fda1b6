"""Check an action server's answer against Rasa's schema with a validator built once, not once per answer.

Rasa 3.6 checks every answer of the action server with `jsonschema.validate(answer, schema)`, which first checks the
schema itself and builds a new validator: about 60% of the cost, at every turn, for the same schema. `install()`
replaces Rasa's check with one that builds the validator once and checks the answer against the same schema, raising
the same error with the same message when an answer is malformed.
"""

from __future__ import annotations

from typing import Any, Dict, Text

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_VALIDATOR = None


def _validator() -> Any:
    global _VALIDATOR
    if _VALIDATOR is None:
        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _VALIDATOR = cls(schema)
    return _VALIDATOR


def validate_action_result(action: RemoteAction, result: Dict[Text, Any]) -> bool:
    """Rasa's `RemoteAction._validate_action_result`, with the validator built once."""
    validator = _validator()
    if validator.is_valid(result):
        return True
    error: ValidationError = best_match(validator.iter_errors(result))
    error.message += (
        f". Failed to validate Action server response from API, make sure your response from the Action endpoint "
        f"is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Make Rasa check action servers' answers with `validate_action_result`."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[assignment]
