"""Questions whose wording depends on what the resident said or on the catalog.

Plain questions are domain responses (`utter_ask_report_form_<slot>`). These others are asked by the report form's
validation action itself, right after it reads the previous answer (see `ValidateReportForm.run`): one call to
the action server per turn instead of two, which matters because Rasa checks every action server answer against
a JSON schema at a cost of tens of milliseconds. The first question about a personal detail comes after a short
notice of collection: why we ask, who sees it, how long it is kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import catalog, complaint_category, kind_choice
from actions.flow import REACHABLE_CHANNELS, pending_attributes
from actions.summary import summary_text

# A numbered list longer than this would not fit a text message with its question: ask in words instead.
MAX_MENU_CHARS = 200


def notice_first(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Show the notice of collection unless this report already showed it."""
    if tracker.get_slot("notice_shown"):
        return []
    dispatcher.utter_message(response="utter_notice_of_collection")
    return [SlotSet("notice_shown", True)]


async def ask_kind_check(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Ask which of the two kinds the classifier hesitated between the resident means."""
    options = kind_choice.options_of(tracker.get_slot("kind_options"))
    if options is not None:
        dispatcher.utter_message(response=kind_choice.RESPONSES[options])
    return []


async def ask_division(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Offer the division the story points to, or list the divisions when there is no guess (or it was wrong)."""
    known = await catalog.load()
    guess = tracker.get_slot("division_guess")
    events: list[EventType] = []
    if guess is None:
        service = known.service(tracker.get_slot("service_code"))
        guess = service.division if service else ""
        events.append(SlotSet("division_guess", guess))
    division = known.division(guess)
    if division is not None:
        dispatcher.utter_message(response="utter_ask_division_guess", team=division.name)
    elif known.divisions and len(known.division_menu()) <= MAX_MENU_CHARS:
        dispatcher.utter_message(response="utter_ask_division_menu", menu=known.division_menu())
    else:
        dispatcher.utter_message(response="utter_ask_division_words")
    return events


async def ask_complaint_category(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Offer the category the complaint's words point to, or list the categories."""
    guess = tracker.get_slot("category_guess")
    events: list[EventType] = []
    if guess is None:
        guess = complaint_category.guess(tracker.get_slot("description") or "") or ""
        events.append(SlotSet("category_guess", guess))
    category = complaint_category.BY_CODE.get(guess)
    if category is not None:
        dispatcher.utter_message(response="utter_ask_category_guess", category=category.label)
    else:
        dispatcher.utter_message(response="utter_ask_category_menu", categories=complaint_category.menu())
    return events


async def ask_service_extra(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Ask the next extra question the catalog has for this kind of request."""
    pending = pending_attributes(tracker.slots, await catalog.load())
    if not pending:
        return []
    attribute = pending[0]
    skip = "" if attribute.required else " You can say skip."
    if attribute.datatype == "multivaluelist":
        # More than one may be picked ("2 and 3"): the choices stay numbered in the text on every channel.
        listed = ", ".join(f"{n} {name}" for n, (_, name) in enumerate(attribute.values, start=1))
        dispatcher.utter_message(text=f"{attribute.question} Reply with one or more numbers: {listed}.{skip}")
    elif attribute.is_list:
        # One choice: buttons on the web chat and Telegram, "Reply 1 for ..." in a text message (channels/sms.py).
        buttons = [{"title": name, "payload": name} for _, name in attribute.values]
        dispatcher.utter_message(text=f"{attribute.question}{skip}", buttons=buttons)
    else:
        dispatcher.utter_message(text=f"{attribute.question}{skip}")
    return []


async def ask_contact_method(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Show the notice of collection, then ask how to reach the resident."""
    events = notice_first(dispatcher, tracker)
    reachable = tracker.get_latest_input_channel() in REACHABLE_CHANNELS
    dispatcher.utter_message(
        response="utter_request_contact_method" if reachable else "utter_request_contact_method_no_chat"
    )
    return events


async def ask_contact_phone(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Ask for a phone number (the notice first, when a call back is the first personal question)."""
    events = notice_first(dispatcher, tracker)
    wanted = tracker.get_slot("callback_wanted")
    dispatcher.utter_message(response="utter_ask_callback_phone" if wanted else "utter_request_contact_phone")
    return events


async def ask_contact_email(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Ask for an email address."""
    events = notice_first(dispatcher, tracker)
    dispatcher.utter_message(response="utter_request_contact_email")
    return events


async def ask_consent(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Ask for consent to contact (the notice first, when the details were given unasked)."""
    events = notice_first(dispatcher, tracker)
    dispatcher.utter_message(response="utter_request_consent")
    return events


async def ask_confirmed(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Read the report back and ask whether to send it; after a "no", just ask what to change."""
    if tracker.get_slot("change_requested"):
        dispatcher.utter_message(response="utter_ask_what_to_change")
        return []
    dispatcher.utter_message(text=summary_text(tracker.slots, await catalog.load()))
    dispatcher.utter_message(response="utter_request_confirmed")
    return []


Ask = Callable[[CollectingDispatcher, Tracker], Awaitable[list[EventType]]]
# The questions asked here rather than by a domain response, by the slot they fill.
QUESTIONS: dict[str, Ask] = {
    "kind_check": ask_kind_check,
    "division": ask_division,
    "complaint_category": ask_complaint_category,
    "service_extra": ask_service_extra,
    "contact_method": ask_contact_method,
    "contact_phone": ask_contact_phone,
    "contact_email": ask_contact_email,
    "consent": ask_consent,
    "confirmed": ask_confirmed,
}
