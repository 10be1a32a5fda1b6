"""Start a report from the resident's first message, and submit it to the backend as a case."""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import backend_client
from actions.report_text import MAX_DESCRIPTION_CHARS, is_descriptive

logger = logging.getLogger(__name__)

KINDS = ("complaint", "compliment", "service_request")
REPORT_SLOTS = ("kind", "description", "location", "division", "case_reference")


class ActionStartReport(Action):
    """Begin a fresh report of the kind the resident's message shows, keeping what it already says."""

    def name(self) -> Text:
        return "action_start_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        message = tracker.latest_message or {}
        kind = (message.get("intent") or {}).get("name")
        text = (message.get("text") or "").strip()
        events: List[EventType] = [SlotSet(slot, None) for slot in REPORT_SLOTS]
        events.append(SlotSet("kind", kind if kind in KINDS else None))
        if is_descriptive(text):
            events.append(SlotSet("description", text[:MAX_DESCRIPTION_CHARS]))
        # Entities in the first message (a place, a division) are kept, not asked for again.
        for slot, entity in (("location", "location"), ("division", "division")):
            value = next(tracker.get_latest_entity_values(entity), None)
            if value:
                events.append(SlotSet(slot, value))
        return events


def _idempotency_key(tracker: Tracker, kind: str) -> str:
    """Return a key that is the same for every retry of this submission, and different for the next report."""
    last_user = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
    seed = f"{tracker.sender_id}|{last_user.get('timestamp')}|{kind}"
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:40]


def build_case(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """Return the case to submit from the tracker's slots, or None when the report is incomplete."""
    kind = tracker.get_slot("kind")
    description = tracker.get_slot("description")
    if kind not in KINDS or not description:
        return None
    return {
        "kind": kind,
        "description": description,
        "location": tracker.get_slot("location"),
        "channel": tracker.get_latest_input_channel() or "unknown",
        "sender_id": tracker.sender_id,
    }


class ActionSubmitCase(Action):
    """Record the finished report in the backend and give the resident its reference number."""

    def name(self) -> Text:
        return "action_submit_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        case = build_case(tracker)
        if case is None:
            dispatcher.utter_message(response="utter_default")
            return []
        try:
            created = await backend_client.create_case(case, idempotency_key=_idempotency_key(tracker, case["kind"]))
        except backend_client.BackendUnavailable as error:
            logger.error("case not recorded for a %s: %s", case["kind"], error)
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        reference = created["reference"]
        dispatcher.utter_message(response="utter_case_created", case_reference=reference)
        return [SlotSet(slot, None) for slot in REPORT_SLOTS if slot != "case_reference"] + [
            SlotSet("case_reference", reference)
        ]
