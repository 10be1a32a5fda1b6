"""Which questions a report still needs, in order, given what the resident has said so far.

This is the one place that decides the shape of each conversation. `report_form` asks the first question in
`report_questions(...)` whose slot is still empty; once nothing is empty the report is confirmed and submitted.

- complaint: what happened, where, when, which division (offered), category (offered), the earlier reference
  (only for a repeat report), the outcome wanted, then contact and consent;
- compliment: who, what they did, where, when, whether they'd like to hear back (and if so, contact and consent);
- service request: (an offer to make it a complaint, when it is a repeat report), what, where, the service's extra
  questions from the catalog, whether its words may appear in the public feed, then contact and consent;
- any kind, first, when the classifier hesitated between two kinds: which one the resident means;
- a call back (asked for, or offered after three failed answers): yes or no, then a phone number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actions.catalog import Catalog

COMPLAINT = "complaint"
COMPLIMENT = "compliment"
SERVICE_REQUEST = "service_request"
KINDS = (COMPLAINT, COMPLIMENT, SERVICE_REQUEST)

PHONE, EMAIL, CHANNEL, ANONYMOUS = "phone", "email", "channel", "anonymous"
CONTACT_METHODS = (PHONE, EMAIL, CHANNEL, ANONYMOUS)
# Channels that can reach a resident after the conversation: a text message or Telegram message is pushed; the web
# chat and REST keep it until the widget or client fetches it (channels/rest.py). "Here" is offered only on these.
REACHABLE_CHANNELS = frozenset({"sms", "telegram", "web", "rest"})

# Every slot a report uses; all are cleared when a report starts, is cancelled, or is submitted.
REPORT_SLOTS = (
    "kind",
    "kind_options",
    "kind_check",
    "report_id",
    "description",
    "location",
    "when",
    "person",
    "division",
    "division_guess",
    "service_code",
    "complaint_category",
    "category_guess",
    "outcome",
    "repeat_report",
    "switch_to_complaint",
    "linked_reference",
    "service_extra",
    "service_attributes",
    "public_consent",
    "hear_back",
    "contact_method",
    "contact_phone",
    "contact_email",
    "consent",
    "notice_shown",
    "confirmed",
    "change_requested",
    "callback_offered",
    "callback_wanted",
    "failed_answers",
)


def contact_method(slots: Mapping[str, Any]) -> str | None:
    """Return how the resident wants to be reached; a phone or email they gave unasked counts as a choice."""
    method = slots.get("contact_method")
    if method:
        return method
    if slots.get("contact_phone"):
        return PHONE
    if slots.get("contact_email"):
        return EMAIL
    return None


def pending_attributes(slots: Mapping[str, Any], catalog: Catalog) -> list[Any]:
    """Return the catalog's extra questions for the report's service that are not answered yet."""
    service = catalog.service(slots.get("service_code"))
    if service is None:
        return []
    answered = slots.get("service_attributes") or {}
    return [attribute for attribute in service.attributes if attribute.code not in answered]


def report_questions(slots: Mapping[str, Any], catalog: Catalog) -> list[str]:
    """Return the slots the report needs, in the order they are asked; answered ones included."""
    questions: list[str] = []
    kind = slots.get("kind")
    if slots.get("callback_offered"):
        questions.append("callback_wanted")
        wanted = slots.get("callback_wanted")
        if wanted is None:
            return questions
        if wanted:
            return questions + ["contact_phone"]
        if kind not in KINDS:
            return questions  # no report under way: declining the call back ends here
    if slots.get("kind_options"):
        questions.append("kind_check")
        if slots.get("kind_check") is None:
            return questions
    if kind == SERVICE_REQUEST and slots.get("repeat_report"):
        questions.append("switch_to_complaint")
        if slots.get("switch_to_complaint") is None:
            return questions
    if kind == COMPLAINT:
        questions += ["description", "location", "when", "division", "complaint_category"]
        if slots.get("repeat_report"):
            questions.append("linked_reference")
        questions.append("outcome")
        questions += _contact_questions(slots)
    elif kind == COMPLIMENT:
        questions += ["person", "description", "location", "when", "hear_back"]
        if slots.get("hear_back"):
            questions += _contact_questions(slots)
    elif kind == SERVICE_REQUEST:
        questions += ["description", "location"]
        if pending_attributes(slots, catalog):
            questions.append("service_extra")
        questions.append("public_consent")
        questions += _contact_questions(slots)
    else:
        return questions
    return questions + ["confirmed"]


def _contact_questions(slots: Mapping[str, Any]) -> list[str]:
    """Return the questions about reaching the resident: how, the detail itself, and consent."""
    method = contact_method(slots)
    # A phone number or email given unasked already says how to reach them.
    questions = [] if method and not slots.get("contact_method") else ["contact_method"]
    if method == PHONE or slots.get("contact_phone"):
        questions.append("contact_phone")
    if method == EMAIL or slots.get("contact_email"):
        questions.append("contact_email")
    if method in (PHONE, EMAIL, CHANNEL):
        questions.append("consent")
    return questions
