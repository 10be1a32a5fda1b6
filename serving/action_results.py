"""Check an action server's answer against Rasa's schema, quickly, with the same verdict and the same error.

Rasa 3.6 checks every answer of the action server with `jsonschema.validate(answer, schema)`, at every turn. That
checks the schema itself and builds a new validator each time, and then checks each event against all 23 kinds of
event in the schema's `oneOf`, to prove that exactly one fits. Each kind fixes the event's name (`"event": {"const":
"slot"}`) and every event must have a name, so only the kind of that name can fit: `is_valid` checks the answer
without the `oneOf`, then each event against its own kind only, with validators built once. An answer that fails
is checked again by the full schema, which raises Rasa's error with Rasa's message.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


def _validator(schema: dict[str, Any]) -> Any:
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


class AnswerCheck:
    """The action server's answer schema, split into the answer without the kinds of event and one per kind."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.full = _validator(schema)
        event = schema["properties"]["events"]["items"]
        kinds = event.get("oneOf", [])
        names = [kind.get("properties", {}).get("event", {}).get("const") for kind in kinds]
        self.by_name: dict[str, Any] | None = None
        # Only when every kind fixes a different name, and every event must have one, is the split exact.
        if kinds and None not in names and len(set(names)) == len(names) and "event" in event.get("required", []):
            outer = copy.deepcopy(schema)
            del outer["properties"]["events"]["items"]["oneOf"]
            self.outer = _validator(outer)
            self.by_name = {name: _validator(kind) for name, kind in zip(names, kinds)}

    def is_valid(self, answer: Any) -> bool:
        if self.by_name is None:
            return bool(self.full.is_valid(answer))
        if not self.outer.is_valid(answer):
            return False
        events = answer.get("events") if isinstance(answer, dict) else None
        for event in events or []:
            kind = self.by_name.get(event["event"])
            if kind is None or not kind.is_valid(event):
                return False
        return True


@lru_cache(maxsize=1)
def answer_check() -> AnswerCheck:
    return AnswerCheck(RemoteAction.action_response_format_spec())


def validate_action_result(action: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's `RemoteAction._validate_action_result`, with validators built once and one kind of event per event."""
    check = answer_check()
    if check.is_valid(result):
        return True
    error: ValidationError = best_match(check.full.iter_errors(result))
    error.message += (
        f". Failed to validate Action server response from API, make sure your response from the Action endpoint "
        f"is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Make Rasa check action servers' answers with `validate_action_result`."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[assignment]
