"""Validation of the three report forms: one shared base, one subclass per kind."""

from __future__ import annotations

import abc
from typing import Any, Dict, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.report_text import MAX_DESCRIPTION_CHARS, MAX_LOCATION_CHARS, has_words


class ValidateReportForm(FormValidationAction, abc.ABC):
    """Check the answers every report form shares: what it is about, and where."""

    @abc.abstractmethod
    def name(self) -> Text:
        """Return the action name; each kind's form has its own."""

    def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Accept a description with some words in it, up to the backend's limit."""
        return _text_answer("description", value, MAX_DESCRIPTION_CHARS, dispatcher)

    def validate_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Accept any place description with a few characters in it."""
        return _text_answer("location", value, MAX_LOCATION_CHARS, dispatcher)


def _text_answer(slot: str, value: Any, max_chars: int, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
    """Return the slot set to the stripped answer, or unset with a plain reason when it is empty or too long."""
    text = str(value or "").strip()
    if not has_words(text):
        dispatcher.utter_message(response="utter_too_short")
        return {slot: None}
    if len(text) > max_chars:
        dispatcher.utter_message(response="utter_too_long")
        return {slot: None}
    return {slot: text}


class ValidateComplaintForm(ValidateReportForm):
    def name(self) -> Text:
        return "validate_complaint_form"


class ValidateComplimentForm(ValidateReportForm):
    def name(self) -> Text:
        return "validate_compliment_form"


class ValidateServiceRequestForm(ValidateReportForm):
    def name(self) -> Text:
        return "validate_service_request_form"
