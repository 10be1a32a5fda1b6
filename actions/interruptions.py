"""What a resident can always say, in or out of a report: cancel, emergency, a person, abuse; and a case delivered.

Rules in bot/rules/interruptions.yml call these; each one stops or resumes the form explicitly, so the dialogue
never guesses what comes after an interruption.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import outbox
from actions.answers import reference_in
from actions.report import cleared_report

logger = logging.getLogger(__name__)


class ActionCancelReport(Action):
    """Stop the report under way and forget it."""

    def name(self) -> str:
        return "action_cancel_report"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_cancelled")
        return [ActiveLoop(None)] + cleared_report()


class ActionEmergency(Action):
    """Tell the resident to call 911 first, and stop any form: nothing else matters until they are safe."""

    def name(self) -> str:
        return "action_emergency"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_emergency")
        dispatcher.utter_message(response="utter_emergency_after")
        return [ActiveLoop(None)] + cleared_report()


class ActionRequestCallback(Action):
    """Give 311's number and hours, and have the report form offer a call back (keeping any report so far)."""

    def name(self) -> str:
        return "action_request_callback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_human_handoff")
        return [
            SlotSet("callback_offered", True),
            SlotSet("callback_wanted", None),
            SlotSet("failed_answers", 0),
            SlotSet("requested_slot", None),
        ]


class ActionHandleAbuse(Action):
    """Answer abuse calmly once; the second time, end the conversation politely."""

    def name(self) -> str:
        return "action_handle_abuse"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if not tracker.get_slot("abuse_warned"):
            dispatcher.utter_message(response="utter_abuse")
            return [SlotSet("abuse_warned", True)]
        dispatcher.utter_message(response="utter_abuse_end")
        return [ActiveLoop(None)] + cleared_report()


class ActionTellDelivered(Action):
    """Tell the resident the reference of a case the outbox delivered after the backend came back.

    The reference comes with the notice (the `delivered_reference` entity), since this action server may not be
    the one whose outbox file holds the case. The outbox marks it told once the channel took the message, not here.
    """

    def name(self) -> str:
        return "action_tell_delivered"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        given = next(tracker.get_latest_entity_values(outbox.REFERENCE_ENTITY), None)
        reference = reference_in(given, offered=True) if isinstance(given, str) else None
        if reference:
            dispatcher.utter_message(response="utter_case_delivered", case_reference=reference)
            return []
        for entry in outbox.shared().for_sender(tracker.sender_id):  # a notice from before references came with it
            if entry.reference:
                dispatcher.utter_message(response="utter_case_delivered", case_reference=entry.reference)
        return []
