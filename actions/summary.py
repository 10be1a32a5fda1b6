"""Read a report back to the resident in a few short lines, and find which part they want to change."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from actions import complaint_category
from actions.answers import format_phone, named_choice
from actions.catalog import UNSURE, Catalog
from actions.flow import CHANNEL, COMPLAINT, COMPLIMENT, EMAIL, PHONE, SERVICE_REQUEST, contact_method
from actions.places import missed_detail

# A text message of two segments holds 306 GSM-7 characters; the summary must fit with room to spare.
MAX_SUMMARY_CHARS = 300
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_HEADINGS = {
    COMPLAINT: "Here is your complaint:",
    COMPLIMENT: "Here is your compliment:",
    SERVICE_REQUEST: "Here is your request:",
}


def gsm_safe(text: str) -> str:
    """Return the text with characters a basic text message cannot carry folded to plain letters or dropped."""
    out = []
    for char in " ".join(text.split()):
        if char in GSM7:
            out.append(char)
            continue
        folded = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        out.append("".join(c for c in folded if c in GSM7))
    return " ".join("".join(out).split())


def contact_line(slots: Mapping[str, Any]) -> str:
    """Return how the resident will be reached, in plain words."""
    method = contact_method(slots)
    if method == PHONE and slots.get("contact_phone"):
        return f"by phone at {format_phone(slots['contact_phone'])}"
    if method == EMAIL and slots.get("contact_email"):
        return f"by email at {slots['contact_email']}"
    if method == CHANNEL:
        return "here, in this chat"
    return "none, you stay anonymous"


def summary_lines(slots: Mapping[str, Any], catalog: Catalog) -> list[tuple[str, str]]:
    """Return (label, value) pairs for every answer the report holds, in the order they were asked."""
    kind = slots.get("kind")
    lines: list[tuple[str, str]] = []
    if kind == COMPLIMENT and slots.get("person"):
        lines.append(("Who", slots["person"]))
    if slots.get("description"):
        lines.append(("What", slots["description"]))
    if slots.get("location"):
        where = slots["location"]
        if missed_detail(slots.get("description") or "", where):
            where += " (I may have missed part of the place)"
        lines.append(("Where", where))
    if slots.get("when"):
        lines.append(("When", slots["when"]))
    if kind == SERVICE_REQUEST:
        service = catalog.service(slots.get("service_code"))
        if service is not None:
            lines.append(("Type", service.name))
            answers = slots.get("service_attributes") or {}
            for attribute in service.attributes:
                value = answers.get(attribute.code)
                if value:
                    lines.append((attribute.question.rstrip("?"), _attribute_text(attribute, value)))
        if slots.get("public_consent") is not None:
            lines.append(("On the public map", "yes, without your details" if slots["public_consent"] else "no"))
    if kind == COMPLAINT:
        division = catalog.division(slots.get("division"))
        team = division.name if division else slots.get("division")
        if team and team != UNSURE:
            lines.append(("Team", team))
        category = complaint_category.BY_CODE.get(slots.get("complaint_category") or "")
        if category is not None:
            lines.append(("About", category.label))
        if slots.get("linked_reference"):
            lines.append(("First report", slots["linked_reference"]))
        if slots.get("outcome"):
            lines.append(("You want", slots["outcome"]))
    if kind != COMPLIMENT or slots.get("hear_back"):
        lines.append(("Contact", contact_line(slots)))
    return lines


def _attribute_text(attribute: Any, value: Any) -> str:
    names = dict(attribute.values)
    values = value if isinstance(value, list) else [value]
    return ", ".join(names.get(v, str(v)) for v in values)


def summary_text(slots: Mapping[str, Any], catalog: Catalog) -> str:
    """Return the read-back of the report, shortening the resident's longest answers to fit two text messages."""
    heading = _HEADINGS.get(slots.get("kind") or "", "Here is what I have:")
    lines = [[label, gsm_safe(str(value))] for label, value in summary_lines(slots, catalog)]

    def render() -> str:
        return "\n".join([heading] + [f"{label}: {value}" for label, value in lines])

    while len(render()) > MAX_SUMMARY_CHARS:
        longest = max(lines, key=lambda line: len(line[1]))
        excess = len(render()) - MAX_SUMMARY_CHARS
        keep = max(12, len(longest[1]) - excess - 3)
        if keep >= len(longest[1]) - 3:
            break  # every answer is already short: nothing more to cut
        longest[1] = longest[1][:keep].rstrip() + "..."
    return render()


@dataclass(frozen=True)
class Field:
    """A part of the report the resident can ask to change, and the slots that hold it."""

    name: str  # how the assistant names it back ("OK, let's fix the place.")
    slots: tuple[str, ...]
    words: tuple[str, ...]
    kinds: tuple[str, ...] = (COMPLAINT, COMPLIMENT, SERVICE_REQUEST)
    # Slots set to "" rather than emptied, so that a guess is not offered again after a correction.
    rejected_guesses: tuple[str, ...] = ()


FIELDS: tuple[Field, ...] = (
    Field(
        "place",
        ("location",),
        ("address", "place", "location", "where", "street", "spot", "corner", "intersection", "postal code"),
    ),
    Field(
        "story",
        ("description",),
        (
            "what happened",
            "description",
            "story",
            "details",
            "problem",
            "issue",
            "what they did",
            "what needs",
            "the what",
            "message",
        ),
    ),
    Field("time", ("when",), ("date", "time", "day", "when"), (COMPLAINT, COMPLIMENT)),
    Field(
        "team",
        ("division",),
        ("division", "department", "team", "service", "who handles"),
        (COMPLAINT,),
        ("division_guess",),
    ),
    Field(
        "topic",
        ("complaint_category",),
        ("category", "type", "topic", "about", "kind of complaint"),
        (COMPLAINT,),
        ("category_guess",),
    ),
    Field("outcome", ("outcome",), ("outcome", "want", "result", "remedy", "resolution", "what i want"), (COMPLAINT,)),
    Field("earlier reference", ("linked_reference",), ("reference", "first report", "ref"), (COMPLAINT,)),
    Field("name", ("person",), ("who", "name", "person", "staff", "team", "crew"), (COMPLIMENT,)),
    Field(
        "contact details",
        ("contact_method", "contact_phone", "contact_email", "consent"),
        ("contact", "phone", "number", "email", "e-mail", "reach", "anonymous", "call me", "phone number"),
    ),
    Field("public map", ("public_consent",), ("public", "map", "publish", "published", "feed"), (SERVICE_REQUEST,)),
    Field(
        "answers",
        ("service_attributes", "service_extra"),
        ("answers", "extra", "what was missed", "lane"),
        (SERVICE_REQUEST,),
    ),
)


def change_target(text: str, kind: str | None) -> Field | None:
    """Return the part of the report the resident asks to change ("change the address"), or None."""
    fields = [field for field in FIELDS if kind in field.kinds]
    index = named_choice(text, [field.words for field in fields])
    return fields[index] if index is not None else None
