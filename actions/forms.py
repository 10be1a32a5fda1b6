"""Validation of the two forms: `report_form` (every kind of report, and call backs) and `status_form`.

Each `validate_<slot>` reads one answer. An answer the assistant cannot use gets a plain reason and the question
again; the third failed answer in a row offers a person instead of looping.
"""

from __future__ import annotations

import abc
import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import (
    backend_client,
    catalog,
    complaint_category,
    corrections,
    kind_choice,
    places,
    questions,
    repeat_report,
)
from actions.answers import (
    email_address,
    is_bare_yes_or_no,
    is_unknown,
    last_digits,
    named_choice,
    numbered_choice,
    phone_number,
    reference_in,
    yes_or_no,
)
from actions.flow import (
    ANONYMOUS,
    CHANNEL,
    COMPLAINT,
    EMAIL,
    KINDS,
    PHONE,
    REACHABLE_CHANNELS,
    pending_attributes,
    report_questions,
)
from actions.report_text import MAX_DESCRIPTION_CHARS, MAX_LOCATION_CHARS, has_words
from actions.summary import change_target

logger = logging.getLogger(__name__)

MAX_FAILED_ANSWERS = 3
MAX_SHORT_ANSWER_CHARS = 500
_CONTACT_WORDS = (
    (PHONE, ("phone", "call", "call me", "cell", "mobile", "telephone", "by phone", "phone call")),
    (EMAIL, ("email", "e-mail", "mail", "by email")),
    (
        CHANNEL,
        (
            "here",
            "this chat",
            "chat",
            "in this chat",
            "this way",
            "text",
            "text me",
            "message",
            "telegram",
            "reply here",
            "same way",
        ),
    ),
    (
        ANONYMOUS,
        (
            "none",
            "anonymous",
            "no reply",
            "no contact",
            "nothing",
            "don't contact",
            "dont contact",
            "do not contact",
            "no thanks",
            "not needed",
            "stay anonymous",
        ),
    ),
)


def _may_be_rejected(tracker: Tracker) -> bool:
    """Say whether Rasa may set this form turn aside: a new message that filled none of the form's slots.

    Then the message is an interruption (a rule answers it and the form asks again afterwards), so nothing may
    be asked now, and no slot set: any slot set here would keep Rasa from handing the message to the rules.
    """
    actions = [event.get("name") for event in tracker.events if event.get("event") == "action"]
    right_after_message = len(actions) >= 2 and actions[-2] == "action_listen"
    return right_after_message and not tracker.slots_to_validate()


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


class ValidateIntakeForm(FormValidationAction, abc.ABC):
    """What both forms share: counting failed answers, and offering a person after the third."""

    @abc.abstractmethod
    def name(self) -> str:
        """Return the action name; each form has its own."""

    def failed(
        self, slot: str, response: str, dispatcher: CollectingDispatcher, tracker: Tracker, **kwargs: Any
    ) -> dict[str, Any]:
        """Say why the answer did not work and leave the slot empty; after three in a row, offer a person."""
        count = int(tracker.get_slot("failed_answers") or 0) + 1
        if count >= MAX_FAILED_ANSWERS:
            return self.give_up(slot, dispatcher, tracker)
        dispatcher.utter_message(response=response, **kwargs)
        return {slot: None, "failed_answers": count}

    @abc.abstractmethod
    def give_up(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """Stop asking the same question after the third failed answer."""

    @staticmethod
    def accepted(values: dict[str, Any]) -> dict[str, Any]:
        """Return the slots to set for a good answer, clearing the count of failed ones."""
        return {**values, "failed_answers": 0}

    def text_answer(
        self, slot: str, value: Any, max_chars: int, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Accept an answer with some words in it, up to `max_chars`; otherwise say why, plainly."""
        text = _text(value)
        if not has_words(text):
            return self.failed(slot, "utter_too_short", dispatcher, tracker)
        if len(text) > max_chars:
            return self.failed(slot, "utter_too_long", dispatcher, tracker)
        return self.accepted({slot: text})


class ValidateReportForm(ValidateIntakeForm):
    """Check each answer of a complaint, compliment or service request, and of a call back request."""

    def name(self) -> str:
        return "validate_report_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Read the answer, then ask the next question when its words are made here (see actions.questions)."""
        set_aside = _may_be_rejected(tracker)
        requested = tracker.get_slot("requested_slot")
        if requested not in (None, "confirmed") and not set_aside:
            # The read-back reads its own changes (validate_confirmed); any other question takes a correction too.
            correction = corrections.read_correction(
                (tracker.latest_message or {}).get("text") or "",
                tracker.slots,
                tracker.get_slot("kind"),
                (tracker.latest_message or {}).get("entities") or [],
            )
            if correction is not None and requested not in correction.updates:
                return await self._correct(correction, requested, dispatcher, tracker)
        events = await super().run(dispatcher, tracker, domain)
        asked = next(
            (e["value"] for e in reversed(events) if e.get("event") == "slot" and e.get("name") == "requested_slot"),
            None,
        )
        ask = questions.QUESTIONS.get(asked)
        if ask is None or set_aside:
            return events
        tracker.add_slots([event for event in events if event.get("name") == "requested_slot"])
        return events + await ask(dispatcher, tracker)

    async def _correct(
        self, correction: corrections.Correction, requested: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        """Change the earlier answer, say so, and ask the question that is still open (or the changed part)."""
        updates = {**correction.updates, requested: None, "failed_answers": 0}
        events: list[EventType] = [SlotSet(slot, value) for slot, value in updates.items()]
        if correction.ask_again:
            dispatcher.utter_message(response="utter_change_field", field=correction.field.name)
        elif correction.new_value and len(correction.new_value) <= 80:
            dispatcher.utter_message(
                response="utter_changed_to", field=correction.field.name, value=correction.new_value
            )
        else:
            dispatcher.utter_message(response="utter_changed", field=correction.field.name)
        tracker.add_slots(events)
        needed = report_questions(tracker.slots, await catalog.load())
        following = next((slot for slot in needed if tracker.slots.get(slot) is None), None)
        events.append(SlotSet("requested_slot", following))
        ask = questions.QUESTIONS.get(following or "")
        if ask is not None:
            tracker.add_slots([SlotSet("requested_slot", following)])
            events += await ask(dispatcher, tracker)
        return events

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """Return the questions this report needs, in order (see actions.flow)."""
        return report_questions(tracker.slots, await catalog.load())

    def give_up(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        if slot == "callback_wanted":
            # Not even yes or no to a call back: stop offering and carry on, or end if there is nothing to do.
            dispatcher.utter_message(response="utter_call_311")
            return {slot: False, "failed_answers": 0}
        dispatcher.utter_message(response="utter_offer_person_after_failures")
        return {slot: None, "failed_answers": 0, "callback_offered": True, "callback_wanted": None}

    # Which kind of report, when the classifier hesitated ----------------------------------------------------

    def validate_kind_check(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the kind the resident picked; after a second unclear answer keep the first guess and carry on."""
        options = kind_choice.options_of(tracker.get_slot("kind_options"))
        if options is None:
            return {"kind_check": None}
        if tracker.get_slot("requested_slot") != "kind_check":
            return {"kind_check": None}
        kind = kind_choice.chosen_kind(_text(value), options, _intent(tracker))
        if kind is not None:
            return self.accepted({"kind_check": kind, "kind": kind})
        if int(tracker.get_slot("failed_answers") or 0) >= 1:
            # Two unclear answers: the question is not worth a third, and staff can still change the kind.
            kept = tracker.get_slot("kind")
            dispatcher.utter_message(response="utter_kind_kept", kind_name=kind_choice.NAMES[kept])
            return self.accepted({"kind_check": kept})
        return self.failed("kind_check", "utter_kind_not_understood", dispatcher, tracker)

    # What, where, when, who ------------------------------------------------------------------------------

    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept the story; guess the service it is about and notice a repeat report."""
        result = self.text_answer("description", value, MAX_DESCRIPTION_CHARS, dispatcher, tracker)
        text = result.get("description")
        if not text:
            return result
        if not tracker.get_slot("service_code"):
            service = (await catalog.load()).guess_service(text)
            if service is not None:
                result["service_code"] = service.code
        if tracker.get_slot("kind") in KINDS and tracker.get_slot("repeat_report") is None:
            if repeat_report.is_repeat(text):
                result["repeat_report"] = True
        return result

    def validate_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept any place description with a few characters in it; a place found in another answer keeps the
        cross street or landmark around it ("Queen St near Spadina")."""
        if tracker.get_slot("requested_slot") != "location" and value:
            value = places.place_in(tracker.latest_message or {}) or value
        return self.text_answer("location", value, MAX_LOCATION_CHARS, dispatcher, tracker)

    def validate_when(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept the resident's own words for when it happened; "not sure" is an answer too."""
        if is_unknown(_text(value)):
            return self.accepted({"when": "not sure"})
        return self.text_answer("when", value, MAX_SHORT_ANSWER_CHARS, dispatcher, tracker)

    def validate_person(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a name or a team; "I don't know their name" is an answer too."""
        if is_unknown(_text(value)):
            return self.accepted({"person": "name not known"})
        return self.text_answer("person", value, MAX_SHORT_ANSWER_CHARS, dispatcher, tracker)

    def validate_outcome(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept what the resident would like the City to do; a bare yes or no is no answer, so ask in plain words."""
        if is_unknown(_text(value)):
            return self.accepted({"outcome": "not sure"})
        if is_bare_yes_or_no(_text(value)):
            return self.failed("outcome", "utter_outcome_in_words", dispatcher, tracker)
        return self.text_answer("outcome", value, MAX_DESCRIPTION_CHARS, dispatcher, tracker)

    # Offered choices: division and complaint category ----------------------------------------------------

    async def validate_division(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept the offered division on a yes, another one by number or name, or "not sure"."""
        known = await catalog.load()
        text = _text(value)
        if tracker.get_slot("requested_slot") != "division":
            # Named in passing ("Toronto Water never called me back"): keep it, as a catalog code when it is one.
            division = known.division(text)
            return {"division": division.code if division else text} if text else {"division": None}
        chosen = known.chosen_division(text)
        guess = tracker.get_slot("division_guess")
        if guess:
            answer = yes_or_no(text, _intent(tracker))
            if chosen and chosen != guess and answer is not True:
                return self.accepted({"division": chosen})
            if answer is True:
                return self.accepted({"division": guess})
            if answer is False:
                return {"division": None, "division_guess": ""}  # show the list next
            return self.failed("division", "utter_yes_or_no", dispatcher, tracker)
        if chosen:
            return self.accepted({"division": chosen})
        if not known.divisions and has_words(text):
            return self.accepted({"division": text[:200]})  # no catalog to choose from: keep their words
        return self.failed("division", "utter_choose_from_list", dispatcher, tracker)

    def validate_complaint_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept the offered category on a yes, or another one by number or name."""
        text = _text(value)
        chosen = complaint_category.chosen(text)
        guess = tracker.get_slot("category_guess")
        if guess:
            answer = yes_or_no(text, _intent(tracker))
            if chosen and chosen != guess and answer is not True:
                return self.accepted({"complaint_category": chosen})
            if answer is True:
                return self.accepted({"complaint_category": guess})
            if answer is False:
                return {"complaint_category": None, "category_guess": ""}
            return self.failed("complaint_category", "utter_yes_or_no", dispatcher, tracker)
        if chosen:
            return self.accepted({"complaint_category": chosen})
        if is_unknown(text):
            return self.accepted({"complaint_category": "other"})
        return self.failed("complaint_category", "utter_choose_from_list", dispatcher, tracker)

    # A repeat report ---------------------------------------------------------------------------------------

    def validate_switch_to_complaint(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """On a yes, make the report a complaint about the earlier one; on a no, keep it a service request."""
        answer = yes_or_no(_text(value), _intent(tracker))
        if answer is None:
            return self.failed("switch_to_complaint", "utter_yes_or_no", dispatcher, tracker)
        if answer:
            return self.accepted({"switch_to_complaint": True, "kind": COMPLAINT})
        return self.accepted({"switch_to_complaint": False})

    def validate_linked_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept the earlier report's reference number, or "I don't have it" (kept as an empty answer)."""
        text = _text(value)
        reference = reference_in(text, offered=tracker.get_slot("requested_slot") == "linked_reference")
        if reference:
            return self.accepted({"linked_reference": reference})
        if tracker.get_slot("requested_slot") != "linked_reference":
            return {"linked_reference": None}
        if is_unknown(text) or yes_or_no(text, _intent(tracker)) is False:
            return self.accepted({"linked_reference": ""})
        if yes_or_no(text, _intent(tracker)) is True:
            # "Yes" (I have it): ask for the number itself.
            return self.failed("linked_reference", "utter_reference_ask_number", dispatcher, tracker)
        return self.failed("linked_reference", "utter_reference_shape", dispatcher, tracker)

    # The catalog's extra questions for a service -----------------------------------------------------------

    async def validate_service_extra(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Record the answer to the service's next extra question; the slot empties again for the one after."""
        pending = pending_attributes(tracker.slots, await catalog.load())
        if not pending:
            return {"service_extra": None}
        attribute = pending[0]
        text = _text(value)
        answer: Any
        if not attribute.required and is_unknown(text):
            answer = ""  # "skip" or "I don't know" to a question the service can do without
        elif attribute.is_list:
            answer = _list_answer(attribute, text)
        else:
            answer = text[:MAX_SHORT_ANSWER_CHARS] if has_words(text) else None
        if answer is None and not attribute.required:
            # A question the service can do without is never worth a second try, let alone a hand-off: the
            # resident may have read it as another question ("Where is it?"). Staff see it was not answered.
            dispatcher.utter_message(response="utter_extra_skipped")
            answer = ""
        if answer is None or (answer == "" and attribute.required):
            return self.failed("service_extra", "utter_extra_not_understood", dispatcher, tracker)
        answers = dict(tracker.get_slot("service_attributes") or {})
        answers[attribute.code] = answer
        return self.accepted({"service_attributes": answers, "service_extra": None})

    def validate_public_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read whether the request's words may appear in the public feed; "not sure" means no."""
        text = _text(value)
        answer = yes_or_no(text, _intent(tracker))
        if answer is None and is_unknown(text):
            answer = False
        if answer is None:
            return self.failed("public_consent", "utter_yes_or_no", dispatcher, tracker)
        return self.accepted({"public_consent": answer})

    # Hearing back, contact and consent ---------------------------------------------------------------------

    def validate_hear_back(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read whether the resident would like to hear back about a compliment."""
        answer = yes_or_no(_text(value), _intent(tracker))
        if answer is None:
            return self.failed("hear_back", "utter_yes_or_no", dispatcher, tracker)
        return self.accepted({"hear_back": answer})

    def validate_contact_method(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read phone, email, this chat or none; a number or an address in the answer is taken as the choice."""
        text = _text(value)
        phone = phone_number(text)
        if phone:
            return self.accepted({"contact_method": PHONE, "contact_phone": phone})
        email = email_address(text)
        if email:
            return self.accepted({"contact_method": EMAIL, "contact_email": email})
        methods = [method for method, _ in _CONTACT_WORDS]
        index = named_choice(text, [words for _, words in _CONTACT_WORDS])
        method = methods[index] if index is not None else None
        if method is None and yes_or_no(text, _intent(tracker)) is False:
            method = ANONYMOUS
        if method is None:
            return self.failed("contact_method", "utter_contact_method_not_understood", dispatcher, tracker)
        if method == CHANNEL and tracker.get_latest_input_channel() not in REACHABLE_CHANNELS:
            return self.failed("contact_method", "utter_chat_cannot_reply", dispatcher, tracker)
        if method == ANONYMOUS:
            dispatcher.utter_message(response="utter_anonymous_note")
            return self.accepted({"contact_method": ANONYMOUS, "contact_phone": None, "contact_email": None})
        return self.accepted({"contact_method": method})

    def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a 10-digit phone number; an email address or "none" instead changes the choice."""
        text = _text(value)
        phone = phone_number(text)
        if phone:
            return self.accepted({"contact_phone": phone})
        if tracker.get_slot("requested_slot") != "contact_phone":
            return {"contact_phone": None}  # a number-like thing in another answer: not a contact detail
        email = email_address(text)
        if email and not tracker.get_slot("callback_wanted"):
            return self.accepted({"contact_method": EMAIL, "contact_email": email, "contact_phone": None})
        if self._declines(text, tracker):
            return self._decline_contact(dispatcher, tracker)
        return self.failed("contact_phone", "utter_phone_not_understood", dispatcher, tracker)

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept one email address; a phone number or "none" instead changes the choice."""
        text = _text(value)
        email = email_address(text)
        if email:
            return self.accepted({"contact_email": email})
        if tracker.get_slot("requested_slot") != "contact_email":
            return {"contact_email": None}
        phone = phone_number(text)
        if phone:
            return self.accepted({"contact_method": PHONE, "contact_phone": phone, "contact_email": None})
        if self._declines(text, tracker):
            return self._decline_contact(dispatcher, tracker)
        return self.failed("contact_email", "utter_email_not_understood", dispatcher, tracker)

    @staticmethod
    def _declines(text: str, tracker: Tracker) -> bool:
        words = dict(_CONTACT_WORDS)[ANONYMOUS]
        return named_choice(text, [words]) is not None or yes_or_no(text, _intent(tracker)) is False

    def _decline_contact(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        if tracker.get_slot("callback_wanted"):
            # No number for the call back: there is nothing to call.
            dispatcher.utter_message(response="utter_call_311")
            return self.accepted({"callback_wanted": False, "contact_phone": None})
        dispatcher.utter_message(response="utter_anonymous_note")
        return self.accepted({"contact_method": ANONYMOUS, "contact_phone": None, "contact_email": None})

    def validate_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read consent to contact; without it the report is anonymous and the details are dropped."""
        answer = yes_or_no(_text(value), _intent(tracker))
        if answer is None:
            return self.failed("consent", "utter_yes_or_no", dispatcher, tracker)
        if answer:
            return self.accepted({"consent": True})
        dispatcher.utter_message(response="utter_consent_declined")
        return self.accepted(
            {"consent": False, "contact_method": ANONYMOUS, "contact_phone": None, "contact_email": None}
        )

    # Summary, changes, and the call back -------------------------------------------------------------------

    def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Send on a yes; on "change the address" empty just that part so it is asked again; on a no, ask what."""
        text = _text(value)
        named = kind_choice.named_kind(text)
        if named is not None and named != tracker.get_slot("kind"):
            # "It's a complaint, not a request": the questions the new kind needs are asked next.
            dispatcher.utter_message(response="utter_kind_changed", kind_name=kind_choice.NAMES[named])
            return {
                "kind": named,
                "kind_check": named,
                "confirmed": None,
                "change_requested": False,
                "failed_answers": 0,
            }
        field = change_target(text, tracker.get_slot("kind"))
        if field is not None:
            just_given = tracker.slots_to_validate()
            result: dict[str, Any] = {"confirmed": None, "change_requested": False, "failed_answers": 0}
            if any(slot in just_given and just_given[slot] for slot in field.slots):
                # "Change the address to 12 Elm St": the new value came with the request.
                dispatcher.utter_message(response="utter_changed", field=field.name)
                return result
            result.update({slot: None for slot in field.slots})
            result.update({slot: "" for slot in field.rejected_guesses})
            dispatcher.utter_message(response="utter_change_field", field=field.name)
            return result
        answer = yes_or_no(text, _intent(tracker))
        if answer is True:
            return self.accepted({"confirmed": True, "change_requested": False})
        if answer is False:
            return {"confirmed": None, "change_requested": True, "failed_answers": 0}
        return self.failed("confirmed", "utter_confirm_not_understood", dispatcher, tracker)

    def validate_callback_wanted(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read whether the resident wants a call back; on a no, carry on with the report if there is one."""
        text = _text(value)
        answer = yes_or_no(text, _intent(tracker))
        if answer is None and phone_number(text):
            answer = True  # "call me at 416 555 0123"
        if answer is None:
            return self.failed("callback_wanted", "utter_yes_or_no", dispatcher, tracker)
        if answer:
            return self.accepted({"callback_wanted": True})
        if tracker.get_slot("kind") in KINDS:
            dispatcher.utter_message(response="utter_carry_on")
        else:
            dispatcher.utter_message(response="utter_call_311")
        return self.accepted({"callback_wanted": False})


def _list_answer(attribute: Any, text: str) -> Any:
    """Return the key (or, for a multi-choice question, the keys) the resident picked, or None."""
    names = [(key, name, key.replace("_", " ")) for key, name in attribute.values]
    if attribute.datatype == "multivaluelist":
        picked = [key for key, *words in names if named_choice(text, [words]) is not None]
        numbers = [int(n) - 1 for n in re.findall(r"\b\d\b", text)]
        picked += [attribute.values[n][0] for n in numbers if 0 <= n < len(attribute.values)]
        unique = list(dict.fromkeys(picked))
        return unique or None
    index = numbered_choice(text, len(names))
    if index is None:
        index = named_choice(text, [words for _, *words in names])
    if index is None:
        answer = yes_or_no(text)
        keys = [key for key, _ in attribute.values]
        if answer is not None and {"yes", "no"} <= set(keys):
            return "yes" if answer else "no"
        return None
    return names[index][0]


class ValidateStatusForm(ValidateIntakeForm):
    """Find the resident's own case by its reference number; never anyone else's."""

    def name(self) -> str:
        return "validate_status_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """Ask for the reference; ask for the phone check only when the case is not this conversation's."""
        if tracker.get_slot("status_result") is not None:
            return []
        slots = ["status_reference"]
        if tracker.get_slot("status_check_needed"):
            slots.append("status_phone_digits")
        return slots

    def give_up(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        dispatcher.utter_message(response="utter_status_call_311")
        return {slot: None, "failed_answers": 0, "status_result": {"state": "gave_up"}}

    async def validate_status_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Look the case up for this conversation; a mistyped number gets a helpful answer, not a search."""
        text = _text(value)
        reference = reference_in(text, offered=True)
        if reference is None:
            return self.failed("status_reference", "utter_reference_shape", dispatcher, tracker)
        try:
            found = await backend_client.case_status(reference, sender_id=tracker.sender_id)
        except backend_client.InvalidReference:
            return self.failed(
                "status_reference", "utter_reference_mistyped", dispatcher, tracker, status_reference=reference
            )
        except backend_client.BackendUnavailable as error:
            logger.warning("status look-up failed: %s", error)
            return self.accepted({"status_reference": reference, "status_result": {"state": "unavailable"}})
        if found is not None:
            return self.accepted({"status_reference": reference, "status_result": found})
        return self.accepted({"status_reference": reference, "status_check_needed": True})

    async def validate_status_phone_digits(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the last 4 digits of the phone number given with the case; one try per look-up."""
        text = _text(value)
        digits = last_digits(text)
        if digits is None:
            if is_unknown(text) or yes_or_no(text, _intent(tracker)) is False:
                return self.accepted({"status_phone_digits": "none", "status_result": {"state": "not_found"}})
            return self.failed("status_phone_digits", "utter_digits_not_understood", dispatcher, tracker)
        reference = tracker.get_slot("status_reference")
        try:
            found = await backend_client.case_status(reference, sender_id=tracker.sender_id, phone_last4=digits)
        except (backend_client.InvalidReference, backend_client.BackendUnavailable) as error:
            logger.warning("status look-up failed: %s", type(error).__name__)
            found = {"state": "unavailable"}
        # The digits themselves are not kept in the conversation's slots.
        return self.accepted({"status_phone_digits": "given", "status_result": found or {"state": "not_found"}})
