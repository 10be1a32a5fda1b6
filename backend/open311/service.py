"""Turn Open311 GeoReport v2 requests into cases and cases into public Open311 service requests."""

from __future__ import annotations

import hmac
import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import references
from backend.cases import service as case_service
from backend.cases.deadlines import Limit, ServiceLevels
from backend.cases.enums import CaseKind, CaseStatus
from backend.cases.models import Case
from backend.cases.schemas import CaseCreate
from backend.catalog.schemas import AttributeDatatype, Catalog, Service
from backend.open311 import redaction

MAX_DESCRIPTION = 4000
MAX_ADDRESS = 500
MAX_ATTRIBUTE_TEXT = 2000
MAX_RANGE = timedelta(days=90)
MAX_RESULTS = 1000
CLOSED_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
# Open311 contact fields: kept in the case's details for staff, never shown by the public endpoints.
CONTACT_FIELDS = {"email": 254, "first_name": 100, "last_name": 100, "phone": 50}
# What each status means, in words a resident understands (Open311 status_notes).
STATUS_NOTES = {
    CaseStatus.NEW: "Received. Staff have not reviewed it yet.",
    CaseStatus.ACKNOWLEDGED: "Staff have reviewed it and will act on it.",
    CaseStatus.IN_PROGRESS: "Work is under way.",
    CaseStatus.RESOLVED: "The work is done.",
    CaseStatus.CLOSED: "Closed.",
}
SERVICE_NOTICE = "Thank you. Keep the service_request_id: it is your reference number with 311."


class Open311Error(Exception):
    """A request the Open311 API refuses, with the HTTP status code it answers (and, for 429, when to retry)."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def check_api_key(*, api_key: str | None, allowed: Sequence[str]) -> None:
    """Raise a 403 `Open311Error` unless `api_key` is one of the `allowed` keys."""
    given = (api_key or "").encode("utf-8")
    matched = False
    for key in allowed:
        # Compare with every key, without stopping early, so timing tells nothing about the keys.
        matched |= hmac.compare_digest(given, key.encode("utf-8"))
    if not given or not matched:
        raise Open311Error(403, "A valid api_key is required to submit a request.")


def find_service(*, catalog: Catalog, service_code: str) -> Service:
    """Return the catalog service with this code, or raise a 404 `Open311Error`."""
    match = catalog.find_service(service_code)
    if match is None:
        raise Open311Error(404, "No service has this service_code.")
    return match[0]


def create_request(*, session: Session, catalog: Catalog, form: Mapping[str, Sequence[str]]) -> Case:
    """Validate an Open311 POST request's fields, create the case and return it.

    Args:
        form: every form field with its values, in the order sent (a field may be repeated).

    Raises:
        Open311Error: a field is missing or invalid (400) or the service code is unknown (400).
    """
    for name, values in form.items():
        if "\x00" in name or any("\x00" in value for value in values):
            raise Open311Error(400, "Fields must not contain NUL characters.")
    fields = {name: values[-1] for name, values in form.items() if values}
    service_code = fields.get("service_code", "").strip()
    if not service_code:
        raise Open311Error(400, "service_code is required.")
    match = catalog.find_service(service_code)
    if match is None:
        raise Open311Error(400, "Unknown service_code: see services.json.")
    service, division = match
    location, position = _location(fields)
    description = fields.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description must be at most {MAX_DESCRIPTION} characters.")
    attributes = _attributes(service, form)
    contact = {}
    for name, limit in CONTACT_FIELDS.items():
        value = fields.get(name, "").strip()
        if len(value) > limit:
            raise Open311Error(400, f"{name} must be at most {limit} characters.")
        if value:
            contact[name] = value
    details: dict[str, Any] = {"open311": {**position, "attributes": attributes}}
    if contact:
        details["contact"] = contact
    try:
        case_in = CaseCreate(
            kind=CaseKind.SERVICE_REQUEST,
            description=description or service.service_name,
            location=location,
            division=division.code,
            service_code=service.service_code,
            channel="open311",
            sender_id=f"open311-{uuid.uuid4().hex}",
            details=details,
            # An Open311 client posts to a public API by design: its words are published, redacted like any other.
            public_consent=True,
        )
    except ValidationError as exc:
        where = ", ".join(".".join(str(part) for part in error["loc"]) for error in exc.errors())
        raise Open311Error(400, f"Invalid request: {where or 'fields'} out of bounds.") from None
    try:
        case, _ = case_service.create(session=session, catalog=catalog, case_in=case_in)
    except case_service.CaseInputError as exc:
        raise Open311Error(400, exc.message) from None
    return case


def _location(fields: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """Return the case's location text and the position fields kept for Open311, or raise a 400."""
    address = fields.get("address_string", "").strip()
    lat_text, long_text = fields.get("lat", "").strip(), fields.get("long", "").strip()
    position: dict[str, Any] = {"lat": None, "long": None, "address_string": address or None}
    if lat_text or long_text:
        if not (lat_text and long_text):
            raise Open311Error(400, "lat and long must be given together.")
        lat, long = _number(lat_text, "lat"), _number(long_text, "long")
        if not -90 <= lat <= 90:
            raise Open311Error(400, "lat must be between -90 and 90.")
        if not -180 <= long <= 180:
            raise Open311Error(400, "long must be between -180 and 180.")
        position.update(lat=lat, long=long)
    elif not address:
        raise Open311Error(400, "A location is required: address_string, or lat and long.")
    if len(address) > MAX_ADDRESS:
        raise Open311Error(400, f"address_string must be at most {MAX_ADDRESS} characters.")
    location = address or f"{position['lat']}, {position['long']}"
    return location, position


def _number(text: str, name: str) -> float:
    """Return `text` as a finite number, or raise a 400 naming the field."""
    try:
        value = float(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number.") from None
    if not math.isfinite(value):
        raise Open311Error(400, f"{name} must be a finite number.")
    return value


def _attributes(service: Service, form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Return the ``attribute[CODE]`` answers checked against the service's attributes, or raise a 400."""
    given: dict[str, list[str]] = {}
    for name, values in form.items():
        if not name.startswith("attribute["):
            continue
        code = name[len("attribute[") :]
        code = code[:-3] if code.endswith("][]") else code[:-1] if code.endswith("]") else ""
        if not code:
            raise Open311Error(400, "Attribute fields are written attribute[CODE].")
        given.setdefault(code, []).extend(value.strip() for value in values)
    known = {attribute.code: attribute for attribute in service.attributes}
    for code in given:
        if code not in known:
            raise Open311Error(400, f"Service {service.service_code} has no attribute {code[:64]!r}.")
    answers: dict[str, Any] = {}
    for code, attribute in known.items():
        values = [value for value in given.get(code, []) if value]
        if not values:
            if attribute.required:
                raise Open311Error(400, f"attribute[{code}] is required.")
            continue
        datatype = attribute.datatype
        if datatype is AttributeDatatype.MULTIVALUELIST:
            keys = {value.key for value in attribute.values}
            if any(value not in keys for value in values):
                raise Open311Error(400, f"attribute[{code}] must be among: {', '.join(sorted(keys))}.")
            answers[code] = list(dict.fromkeys(values))
            continue
        if len(values) > 1:
            raise Open311Error(400, f"attribute[{code}] takes one value.")
        value = values[0]
        if datatype is AttributeDatatype.SINGLEVALUELIST:
            keys = {choice.key for choice in attribute.values}
            if value not in keys:
                raise Open311Error(400, f"attribute[{code}] must be one of: {', '.join(sorted(keys))}.")
            answers[code] = value
        elif datatype is AttributeDatatype.NUMBER:
            answers[code] = _number(value, f"attribute[{code}]")
        elif datatype is AttributeDatatype.DATETIME:
            answers[code] = _datetime(value, f"attribute[{code}]").isoformat()
        else:
            if len(value) > MAX_ATTRIBUTE_TEXT:
                raise Open311Error(400, f"attribute[{code}] must be at most {MAX_ATTRIBUTE_TEXT} characters.")
            answers[code] = value
    return answers


def _datetime(text: str, name: str) -> datetime:
    """Return an ISO 8601 date-time as an aware datetime (UTC when no offset is given), or raise a 400."""
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 date-time.") from None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def get_requests(
    *,
    session: Session,
    service_request_ids: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> list[Case]:
    """Return the service requests matching the Open311 filters, newest first, at most 1000.

    When `service_request_ids` is given, the other filters are ignored, as the GeoReport v2 specification says.

    Raises:
        Open311Error: a filter is invalid or the date range is longer than 90 days (400).
    """
    query = select(Case).where(Case.kind == CaseKind.SERVICE_REQUEST)
    if service_request_ids is not None and service_request_ids.strip():
        wanted = [
            canonical
            for part in service_request_ids.split(",")[:MAX_RESULTS]
            if (canonical := references.normalize(part)) is not None and references.is_valid(canonical)
        ]
        if not wanted:
            return []
        query = query.where(Case.reference.in_(wanted))
    else:
        now = now or datetime.now(timezone.utc)
        start = _datetime(start_date, "start_date") if start_date else None
        end = _datetime(end_date, "end_date") if end_date else None
        if start is None and end is None:
            end, start = now, now - MAX_RANGE
        elif start is None:
            assert end is not None
            start = end - MAX_RANGE
        elif end is None:
            end = start + MAX_RANGE
        if end < start:
            raise Open311Error(400, "end_date must not be before start_date.")
        if end - start > MAX_RANGE:
            raise Open311Error(400, "The date range must not exceed 90 days.")
        query = query.where(Case.created_at >= start, Case.created_at <= end)
        if service_code:
            query = query.where(Case.service_code == service_code.strip())
        if status:
            if status not in ("open", "closed"):
                raise Open311Error(400, "status must be open or closed.")
            closed = Case.status.in_(CLOSED_STATUSES)
            query = query.where(closed if status == "closed" else ~closed)
    query = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_RESULTS)
    return list(session.scalars(query))


def get_request(*, session: Session, service_request_id: str) -> Case:
    """Return the service request with this id, or raise a 404 `Open311Error`."""
    canonical = references.normalize(service_request_id)
    case = None
    if canonical is not None and references.is_valid(canonical):
        case = case_service.get_by_reference(session=session, reference=canonical)
    if case is None or case.kind is not CaseKind.SERVICE_REQUEST:
        raise Open311Error(404, "No service request has this service_request_id.")
    return case


def to_public(case: Case, catalog: Catalog) -> dict[str, Any]:
    """Return the public Open311 view of a case: its service, status and dates, and its words and place only when
    the resident agreed to publish them, without personal details (backend.open311.redaction).

    Never shown: names, contact details, the conversation id, the transcript or staff notes.
    """
    service_match = catalog.find_service(case.service_code) if case.service_code else None
    division = catalog.find_division(case.division) if case.division else None
    if division is None and service_match is not None:
        division = service_match[1]
    expected = case.respond_due_at or ServiceLevels(catalog=catalog).due(
        Limit.RESPOND_STAGE_1, kind=case.kind, division=case.division, start=case.created_at
    )
    description, address, lat, long = None, None, None, None
    if case.public_consent:
        position = (case.details or {}).get("open311") or {}
        # Assistant cases have a free-text location; Open311 cases keep the address they were sent, if any.
        description = redaction.public_text(case.description)
        address = redaction.public_address(position.get("address_string") if position else case.location)
        lat, long = redaction.public_position(position.get("lat"), position.get("long"))
    return {
        "service_request_id": case.reference,
        "status": "closed" if case.status in CLOSED_STATUSES else "open",
        "status_notes": STATUS_NOTES[case.status],
        "service_name": service_match[0].service_name if service_match else None,
        "service_code": case.service_code,
        "description": description,
        "agency_responsible": division.name if division else None,
        "service_notice": None,
        "requested_datetime": case.created_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": expected.isoformat(),
        "address": address,
        "lat": lat,
        "long": long,
        "media_url": None,
    }


def service_list(catalog: Catalog) -> list[dict[str, Any]]:
    """Return every catalog service as an Open311 service."""
    return [
        {
            "service_code": service.service_code,
            "service_name": service.service_name,
            "description": service.description,
            "metadata": bool(service.attributes),
            "type": "realtime",
            "keywords": ",".join(service.keywords),
            "group": service.group,
        }
        for division in catalog.divisions
        for service in division.services
    ]


def service_definition(service: Service) -> dict[str, Any]:
    """Return the Open311 definition (attributes) of a service."""
    return {
        "service_code": service.service_code,
        "attributes": [
            {
                "variable": attribute.variable,
                "code": attribute.code,
                "datatype": attribute.datatype.value,
                "required": attribute.required,
                "datatype_description": attribute.datatype_description,
                "order": attribute.order if attribute.order is not None else position,
                "description": attribute.description,
                "values": [{"key": value.key, "name": value.name} for value in attribute.values],
            }
            for position, attribute in enumerate(service.attributes, start=1)
        ],
    }
