"""Start a conversation session: a resident back within an hour resumes; after that they start fresh, politely."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class ActionSessionStart(Action):
    """Open a new session; if the last one ended in the middle of a report, say that it was not kept."""

    def name(self) -> str:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # Rasa runs this only when the session expired (session_config) or the conversation is new; the tracker
        # still holds the old session's state, so an unfinished form shows here.
        if tracker.active_loop_name in ("report_form", "status_form"):
            dispatcher.utter_message(response="utter_session_expired")
        return [SessionStarted(), ActionExecuted("action_listen")]
