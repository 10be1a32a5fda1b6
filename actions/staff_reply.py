"""Relay a staff member's reply to the resident, on the channel of their conversation."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

logger = logging.getLogger(__name__)

TEXT_ENTITY = "staff_reply"


class ActionRelayStaffReply(Action):
    """Say the text of an ``EXTERNAL_staff_reply`` event (sent by the backend) to the resident, as it is."""

    def name(self) -> str:
        return "action_relay_staff_reply"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        text = next(tracker.get_latest_entity_values(TEXT_ENTITY), None)
        if isinstance(text, str) and text.strip():
            dispatcher.utter_message(text=text.strip())
        else:
            # The sender id may be a phone number: it stays out of the log.
            logger.warning("A staff reply arrived without text; nothing was sent")
        return []
