"""Start a report from the resident's first message, and submit it to the backend as a case, exactly once."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import backend_client, catalog, kind_choice, outbox, places
from actions.answers import email_address, format_phone, phone_number, reference_in
from actions.catalog import UNSURE, Catalog
from actions.flow import ANONYMOUS, COMPLAINT, COMPLIMENT, KINDS, REPORT_SLOTS, SERVICE_REQUEST, contact_method
from actions.report_text import MAX_DESCRIPTION_CHARS, is_descriptive

logger = logging.getLogger(__name__)

CALLBACK_SERVICE = "311-GENERAL"
# The backend refuses `details` over 8 KB of JSON (backend/cases/schemas.py MAX_DETAILS_BYTES); kept a little under.
MAX_DETAILS_BYTES = 8 * 1024 - 256
CALLBACK_DESCRIPTION = "The resident asked for a call back from 311."


def cleared_report() -> list[EventType]:
    """Return the events that forget the report under way (and which question was asked)."""
    return [SlotSet(slot, None) for slot in REPORT_SLOTS] + [SlotSet("requested_slot", None)]


class ActionStartReport(Action):
    """Begin a fresh report of the kind the resident's message shows, keeping everything it already says."""

    def name(self) -> str:
        return "action_start_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        message = tracker.latest_message or {}
        kind = (message.get("intent") or {}).get("name")
        text = (message.get("text") or "").strip()
        events = cleared_report()
        events += [SlotSet("kind", kind if kind in KINDS else None), SlotSet("report_id", uuid.uuid4().hex)]
        # When the classifier hesitated between two kinds, the form asks which one first (actions/kind_choice.py).
        options = kind_choice.unsure_between(kind, message.get("intent_ranking") or [])
        if options is not None:
            events.append(SlotSet("kind_options", " ".join(options)))
        if is_descriptive(text):
            events.append(SlotSet("description", text[:MAX_DESCRIPTION_CHARS]))
        # What the first message already says is kept, never asked again.
        entity_slots = {"location": "location", "division": "division", "date_time": "when"}
        if kind == COMPLIMENT:
            entity_slots["person"] = "person"
        for entity, slot in entity_slots.items():
            value = next(tracker.get_latest_entity_values(entity), None)
            if entity == "location":
                value = places.place_in(message) or value  # with its cross street or landmark
            if value:
                events.append(SlotSet(slot, value))
        phone = phone_number(next(tracker.get_latest_entity_values("phone"), "") or "")
        if phone:
            events.append(SlotSet("contact_phone", phone))
        email = email_address(next(tracker.get_latest_entity_values("email"), "") or "")
        if email:
            events.append(SlotSet("contact_email", email))
        # Only a reference given as one: "31 Crescent Rd" holds no C-RESCENT (actions/answers.py).
        reference = reference_in(text)
        if reference:
            events.append(SlotSet("linked_reference", reference))
        return events


def idempotency_key(tracker: Tracker) -> str:
    """Return a key that is the same for every retry of this report, and different for the next report."""
    report_id = tracker.get_slot("report_id")
    if not report_id:
        # A report begun before report ids existed: fall back to the turn that confirmed it.
        last_user = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
        report_id = f"{last_user.get('timestamp')}|{tracker.get_slot('kind')}"
    return hashlib.sha256(f"{tracker.sender_id}|{report_id}".encode()).hexdigest()[:40]


def _routing(slots: Mapping[str, Any], known: Catalog) -> dict[str, Any]:
    """Return the division and service code to send, checked against the catalog, and any team named outside it."""
    routing: dict[str, Any] = {}
    named = slots.get("division")
    division = known.division(named)
    service = known.service(slots.get("service_code"))
    if division is not None:
        routing["division"] = division.code
    elif named and named != UNSURE:
        routing["division_named"] = named
    if service is not None and (division is None or service.division == division.code):
        routing["service_code"] = service.code
        routing["division"] = service.division
    return routing


def build_case(tracker: Tracker, known: Catalog) -> dict[str, Any] | None:
    """Return the case to submit from the tracker's slots, or None when there is nothing to submit."""
    slots = tracker.slots
    kind = slots.get("kind")
    callback = bool(slots.get("callback_offered") and slots.get("callback_wanted"))
    if callback:
        kind = kind if kind in KINDS else SERVICE_REQUEST
    elif kind not in KINDS or not slots.get("description"):
        return None
    details: dict[str, Any] = {}
    routing = _routing(slots, known)
    if "division_named" in routing:
        details["division_named"] = routing.pop("division_named")
    general = known.service(CALLBACK_SERVICE)
    if callback and "division" not in routing and general is not None:
        routing.update(service_code=general.code, division=general.division)
    triage = known.triage_division()
    if "division" not in routing and triage is not None:
        # No service and no team found: 311's triage queue, which has an owner and its own time limit, sends it on.
        routing["division"] = triage.code
    answers = {
        "when": slots.get("when"),
        "complaint_category": slots.get("complaint_category") if kind == COMPLAINT else None,
        "outcome_wanted": slots.get("outcome") if kind == COMPLAINT else None,
        "linked_reference": slots.get("linked_reference") if kind == COMPLAINT else None,
        "staff_named": slots.get("person") if kind == COMPLIMENT else None,
        "service_attributes": slots.get("service_attributes") or None,
    }
    details.update({key: value for key, value in answers.items() if value})
    if kind == COMPLIMENT and slots.get("hear_back") is not None:
        details["hear_back"] = bool(slots.get("hear_back"))
    details.update(_contact_details(slots, callback, kind))
    case: dict[str, Any] = {
        "kind": kind,
        "description": slots.get("description") or CALLBACK_DESCRIPTION,
        "location": slots.get("location"),
        "channel": tracker.get_latest_input_channel() or "unknown",
        "sender_id": tracker.sender_id,
        **routing,
        "details": fit_details(details),
    }
    if kind == SERVICE_REQUEST:
        # Its words appear in the public Open311 feed (with personal details removed) only on the resident's yes.
        case["public_consent"] = slots.get("public_consent") is True
    return case


def _json_bytes(value: Any) -> int:
    # Measured as the backend measures it (backend/cases/schemas.py).
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _longest_text(value: Any, path: tuple[Any, ...] = ()) -> tuple[tuple[Any, ...], str] | None:
    """Return (path, text) of the longest string in a JSON value, measured in UTF-8 bytes."""
    found: tuple[tuple[Any, ...], str] | None = None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        candidate = (path + (key,), item) if isinstance(item, str) else _longest_text(item, path + (key,))
        if candidate and (found is None or len(candidate[1].encode()) > len(found[1].encode())):
            found = candidate
    return found


def fit_details(details: dict[str, Any], limit: int = MAX_DETAILS_BYTES) -> dict[str, Any]:
    """Return the details cut to fit the backend's limit: the longest answer is shortened (ending with "...")
    until the whole is at most `limit` bytes of JSON, so that a long answer never gets a report refused."""
    details = json.loads(json.dumps(details))  # a copy, with the types JSON gives back
    while _json_bytes(details) > limit:
        longest = _longest_text(details)
        if longest is None or len(longest[1]) <= 3:
            break  # nothing left to cut: the backend decides
        path, text = longest
        excess = _json_bytes(details) - limit
        keep = text.encode("utf-8")[: max(0, len(text.encode("utf-8")) - excess - 3)].decode("utf-8", "ignore")
        target = details
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = keep.rstrip() + "..." if keep.strip() else "..."
    return details


def _contact_details(slots: Mapping[str, Any], callback: bool, kind: str) -> dict[str, Any]:
    """Return how to reach the resident, only as far as they agreed to it (`contact`, shaped as Open311's)."""
    if callback:
        return {
            "callback_requested": True,
            "contact": {"method": "phone", "phone": phone_number(slots.get("contact_phone") or ""), "consent": True},
        }
    if kind == COMPLIMENT and not slots.get("hear_back"):
        return {"contact": {"method": ANONYMOUS}}
    method = contact_method(slots) or ANONYMOUS
    if method == ANONYMOUS or not slots.get("consent"):
        return {"contact": {"method": ANONYMOUS, "consent": False}}
    contact: dict[str, Any] = {"method": method, "consent": True}
    if method == "phone":
        contact["phone"] = phone_number(slots.get("contact_phone") or "") or slots.get("contact_phone")
    if method == "email":
        contact["email"] = slots.get("contact_email")
    return {"contact": contact}


class ActionSubmitCase(Action):
    """Record the confirmed report (or call back) once, and tell the resident its reference and what comes next.

    When the backend is down after the retries, the case goes to the durable outbox and the resident is told
    honestly; the reference follows when the backend is back.
    """

    def name(self) -> str:
        return "action_submit_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        known = await catalog.load()
        case = build_case(tracker, known)
        if case is None:
            return cleared_report()  # a declined call back with no report under way: nothing to record
        key = idempotency_key(tracker)
        try:
            created = await backend_client.create_case(case, idempotency_key=key)
        except backend_client.CaseRefused as error:
            # Invalid as the backend sees it: kept, and handed to staff (the dead-letter list), never dropped.
            logger.error("a %s case was refused by the backend as invalid: %s", case["kind"], error)
            box = outbox.shared()
            box.put(case, idempotency_key=key)
            box.mark_refused(key, error.problems)
            try:
                await backend_client.report_dead_letter(case, idempotency_key=key, problems=error.problems)
                box.mark_dead_lettered(key)
            except backend_client.BackendUnavailable as later:
                logger.warning("the refused case goes to staff later: %s", later)  # the outbox's thread retries
            dispatcher.utter_message(response="utter_backend_refused")
            return cleared_report()
        except backend_client.BackendUnavailable as error:
            logger.warning("backend unavailable, a %s case goes to the outbox: %s", case["kind"], error)
            outbox.shared().put(case, idempotency_key=key)
            dispatcher.utter_message(response="utter_case_queued")
            return cleared_report()
        reference = created["reference"]
        tell_next_steps(dispatcher, tracker.slots, case, created, known)
        return cleared_report() + [SlotSet("case_reference", reference)]


def tell_next_steps(
    dispatcher: CollectingDispatcher,
    slots: Mapping[str, Any],
    case: dict[str, Any],
    created: dict[str, Any],
    known: Catalog,
) -> None:
    """Give the reference number, then what happens next and by when: the time limits the backend gave the case
    (its service levels, then the catalog's), or the catalog's when its answer lacks them."""
    reference = created["reference"]
    division = known.division(case.get("division"))
    team = division.name if division else "City staff"
    if division is not None and division.triage:
        team = "our 311 team"
    acknowledge, respond = known.time_limits(case.get("division"))
    acknowledge = created.get("acknowledge_days") or acknowledge
    respond = created.get("respond_days") or respond
    details = case.get("details") or {}
    if details.get("callback_requested"):
        dispatcher.utter_message(
            response="utter_callback_created",
            case_reference=reference,
            phone=format_phone(details["contact"]["phone"]),
            days=acknowledge,
        )
        return
    dispatcher.utter_message(response="utter_case_created", case_reference=reference)
    reachable = (details.get("contact") or {}).get("method") not in (None, ANONYMOUS)
    if case["kind"] == COMPLAINT:
        name = "utter_next_steps_complaint" if reachable else "utter_next_steps_complaint_anonymous"
        dispatcher.utter_message(response=name, team=team, acknowledge_days=acknowledge, respond_days=respond)
    elif case["kind"] == COMPLIMENT:
        named = division is not None and not division.triage
        dispatcher.utter_message(response="utter_next_steps_compliment", team=team if named else "the right team")
    else:
        name = "utter_next_steps_request" if reachable else "utter_next_steps_request_anonymous"
        dispatcher.utter_message(response=name, team=team, acknowledge_days=acknowledge)
