"""Tell a resident where their case is, by its reference number, and only if it is theirs."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import outbox
from actions.answers import reference_in

STATUS_SLOTS = ("status_reference", "status_phone_digits", "status_check_needed", "status_result")
# One plain sentence per state a case can be in; a state added later in the backend gets the general one.
STATUS_RESPONSES = {
    "new": "utter_status_new",
    "acknowledged": "utter_status_acknowledged",
    "in_progress": "utter_status_in_progress",
    "resolved": "utter_status_resolved",
    "closed": "utter_status_closed",
}


class ActionStartStatus(Action):
    """Begin a status look-up, first telling about any case of this conversation still in the outbox."""

    def name(self) -> str:
        return "action_start_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events: list[EventType] = [SlotSet(slot, None) for slot in STATUS_SLOTS]
        events.append(SlotSet("requested_slot", None))
        box = outbox.shared()
        for entry in box.for_sender(tracker.sender_id):
            if entry.reference is None:
                dispatcher.utter_message(response="utter_status_still_waiting")
                events.append(SlotSet("status_result", {"state": "waiting"}))
                return events
            # Delivered while the resident was away: this is the reference they are asking about.
            box.mark_told(entry.idempotency_key)
            dispatcher.utter_message(response="utter_case_delivered", case_reference=entry.reference)
            events.append(SlotSet("status_reference", entry.reference))
            return events
        entity = next(tracker.get_latest_entity_values("reference"), None)
        # The resident asked about a report: whatever has a reference's shape is the one (the backend checks it).
        reference = reference_in(entity or "", offered=True) or reference_in(
            (tracker.latest_message or {}).get("text") or "", offered=True
        )
        if reference:
            events.append(SlotSet("status_reference", reference))
        return events


class ActionTellStatus(Action):
    """Say what the status look-up found, in plain words."""

    def name(self) -> str:
        return "action_tell_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        result: dict[str, Any] = tracker.get_slot("status_result") or {}
        reference = tracker.get_slot("status_reference") or ""
        state = result.get("state")
        if state == "not_found":
            dispatcher.utter_message(response="utter_status_not_found")
        elif state == "unavailable":
            dispatcher.utter_message(response="utter_status_unavailable")
        elif "status" in result:
            response = STATUS_RESPONSES.get(result["status"], "utter_status_other")
            dispatcher.utter_message(response=response, status_reference=result.get("reference", reference))
        # "waiting" and "gave_up" were answered when they happened.
        return [SlotSet(slot, None) for slot in STATUS_SLOTS]
