"""Create, look up, find and handle cases: every change a staff member makes is recorded in the case's history and
in the audit log, in the same transaction."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import references
from backend.audit import service as audit
from backend.cases.deadlines import Limit, ServiceLevels
from backend.cases.enums import (
    COMPLAINT_SUBJECT_KEY,
    OPEN_STATUSES,
    CaseKind,
    CaseStatus,
    ContactMethod,
    UpdateKind,
)
from backend.cases.models import Case, CaseUpdate
from backend.cases.schemas import CaseCreate
from backend.catalog.schemas import Catalog
from backend.database.types import UTCDateTime, utcnow
from backend.staff.models import StaffUser
from backend.staff.permissions import can_see_division

logger = logging.getLogger(__name__)

MAX_REFERENCE_ATTEMPTS = 5
# Someone asking for a case's status from another conversation proves it is theirs with the phone's last 4 digits:
# after 5 wrong guesses, no digits are accepted for a day (the filer's own conversation still gets its answer).
MAX_PHONE_GUESSES = 5
PHONE_CHECK_LOCK = timedelta(hours=24)
SERVICE_LEVELS_KEY = "intake.service_levels"


class CaseInputError(ValueError):
    """A field of a new case does not match the catalog."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class IdempotencyConflict(Exception):
    """The idempotency key was already used for a different request."""


def get_by_reference(*, session: Session, reference: str) -> Case | None:
    """Return the case with this reference (canonical form), or None."""
    return session.scalar(select(Case).where(Case.reference == reference))


def get_for_resident(
    *, session: Session, reference: str, sender_id: str, phone_last4: str | None = None
) -> Case | None:
    """Return the case with this reference if this resident filed it, else None (as if there were no such case).

    The resident is the conversation that filed it (`sender_id`), or someone who knows the last 4 digits of the
    phone number given with it (in the case's contact details, or the SMS number it was sent from). Four digits
    are quickly guessed: after MAX_PHONE_GUESSES wrong ones, no digits are accepted for PHONE_CHECK_LOCK.
    """
    case = get_by_reference(session=session, reference=reference)
    if case is None:
        return None
    if case.sender_id == sender_id:
        return case
    if phone_last4 is None:
        return None
    now = utcnow()
    locked_until = case.phone_check_locked_until
    if locked_until is not None and locked_until > now:
        return None  # too many wrong guesses lately: even the right digits are answered as a missing case
    if phone_last4 in _phone_endings(case):
        return case
    _count_wrong_guess(session, case, now)
    return None


def _count_wrong_guess(session: Session, case: Case, now: datetime) -> None:
    """Add one wrong guess (atomically, as guesses may arrive together); lock the check after MAX_PHONE_GUESSES."""
    guesses = session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(phone_guesses=Case.phone_guesses + 1, updated_at=Case.updated_at)  # not a change to the case
        .returning(Case.phone_guesses)
    ).scalar_one()
    if guesses >= MAX_PHONE_GUESSES:
        session.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(phone_guesses=0, phone_check_locked_until=now + PHONE_CHECK_LOCK, updated_at=Case.updated_at)
        )
        logger.warning("the phone check of a case is locked after %d wrong guesses", MAX_PHONE_GUESSES)
    session.commit()


def _phone_endings(case: Case) -> set[str]:
    """Return the last 4 digits of every full phone number on the case."""
    contact = (case.details or {}).get("contact")
    numbers = [contact.get("phone")] if isinstance(contact, dict) else []
    if case.channel == "sms":
        numbers.append(case.sender_id)
    digits = ("".join(ch for ch in str(number) if ch.isdigit()) for number in numbers if number)
    return {number[-4:] for number in digits if len(number) >= 10}


def get_by_idempotency_key(*, session: Session, idempotency_key: str) -> Case | None:
    """Return the case created with this idempotency key, or None."""
    return session.scalar(select(Case).where(Case.idempotency_key == idempotency_key))


def get_all(
    *,
    session: Session,
    kind: CaseKind | None = None,
    status: CaseStatus | None = None,
    channel: str | None = None,
    sender_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Case], int]:
    """Return one page of cases matching the filters, newest first, and how many match in all."""
    conditions = []
    if kind is not None:
        conditions.append(Case.kind == kind)
    if status is not None:
        conditions.append(Case.status == status)
    if channel is not None:
        conditions.append(Case.channel == channel)
    if sender_id is not None:
        conditions.append(Case.sender_id == sender_id)
    total = session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0
    page = session.scalars(
        select(Case).where(*conditions).order_by(Case.created_at.desc(), Case.id.desc()).limit(limit).offset(offset)
    )
    return list(page), total


def create(
    *, session: Session, catalog: Catalog, case_in: CaseCreate, idempotency_key: str | None = None
) -> tuple[Case, bool]:
    """Store a new case and commit; return it and True, or the earlier case and False for a replayed key.

    Raises:
        CaseInputError: the division or service code is not in the catalog, or they disagree.
        IdempotencyConflict: `idempotency_key` was already used with a different request.
    """
    division, service_code = _resolve_catalog(catalog, case_in)
    fingerprint = _fingerprint(case_in) if idempotency_key is not None else None
    now = utcnow()
    levels = service_levels(session=session, catalog=catalog)
    acknowledge_due = levels.due(Limit.ACKNOWLEDGE, kind=case_in.kind, division=division, start=now)
    respond_due = levels.due(Limit.RESPOND_STAGE_1, kind=case_in.kind, division=division, start=now)
    # Insert first and look for an earlier use of the key only on a conflict: a read before the write would
    # let concurrent requests with the same key race (and on SQLite, fail to upgrade their read lock).
    for _ in range(MAX_REFERENCE_ATTEMPTS):
        case = Case(
            reference=references.generate(case_in.kind.value),
            kind=case_in.kind,
            status=CaseStatus.NEW,
            description=case_in.description,
            location=case_in.location,
            division=division,
            service_code=service_code,
            channel=case_in.channel,
            sender_id=case_in.sender_id,
            details=case_in.details or {},
            public_consent=case_in.public_consent,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint,
            created_at=now,
            updated_at=now,
            stage=1,
            acknowledge_due_at=acknowledge_due,
            respond_due_at=respond_due,
            due_at=acknowledge_due,
            respond_clock_started_at=now,
        )
        try:
            with session.begin_nested():
                session.add(case)
        except IntegrityError:
            if idempotency_key is not None:
                earlier = get_by_idempotency_key(session=session, idempotency_key=idempotency_key)
                if earlier is not None:
                    session.commit()
                    if earlier.request_fingerprint != fingerprint:
                        raise IdempotencyConflict(idempotency_key) from None
                    logger.info("Replayed case %s for a repeated idempotency key", earlier.reference)
                    return earlier, False
            logger.warning("Reference %s is taken; drawing another", case.reference)
            continue
        session.commit()
        logger.info("Created %s case %s from channel %s", case.kind.value, case.reference, case.channel)
        return case, True
    raise RuntimeError(f"no free reference number after {MAX_REFERENCE_ATTEMPTS} attempts")


def service_levels(*, session: Session, catalog: Catalog) -> ServiceLevels:
    """Return the service levels the app configured on its sessions, or the catalog's limits without holidays.

    The app puts its `ServiceLevels` in ``session.info`` (see `SERVICE_LEVELS_KEY`), so that every way of making a
    case, the JSON API included, computes the same deadlines.
    """
    levels = session.info.get(SERVICE_LEVELS_KEY)
    return levels if isinstance(levels, ServiceLevels) else ServiceLevels(catalog=catalog)


def time_limits(*, session: Session, catalog: Catalog, case: Case) -> tuple[int, int]:
    """Return the working days the case has to be acknowledged and to be answered in full (stage 1)."""
    levels = service_levels(session=session, catalog=catalog)
    return (
        levels.limit(Limit.ACKNOWLEDGE, kind=case.kind, division=case.division),
        levels.limit(Limit.RESPOND_STAGE_1, kind=case.kind, division=case.division),
    )


def _resolve_catalog(catalog: Catalog, case_in: CaseCreate) -> tuple[str | None, str | None]:
    """Return the division code and service code of the new case, checked against the catalog."""
    division = None
    if case_in.division is not None:
        found = catalog.find_division(case_in.division)
        if found is None:
            raise CaseInputError(
                "division", f"Unknown division {case_in.division!r}: use a code or name from /api/catalog."
            )
        division = found.code
    if case_in.service_code is None:
        return division, None
    match = catalog.find_service(case_in.service_code)
    if match is None:
        raise CaseInputError("service_code", f"Unknown service code {case_in.service_code!r}: see /api/catalog.")
    service, owner = match
    if division is not None and division != owner.code:
        raise CaseInputError(
            "service_code", f"Service {service.service_code!r} belongs to division {owner.code!r}, not {division!r}."
        )
    return owner.code, service.service_code


def _fingerprint(case_in: CaseCreate) -> str:
    """Return a stable hash of the request, to tell a true replay from a reused idempotency key."""
    # Without consent, the request hashes as it did before public_consent existed: a retry sent across the upgrade
    # is still a replay.
    body = case_in.model_dump(mode="json", exclude=None if case_in.public_consent else {"public_consent"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- Finding cases (the staff list) -----------------------------------------------------------------------------


class Overdue(str, Enum):
    """Deadline filters of the staff list."""

    OVERDUE = "overdue"
    DUE_SOON = "due_soon"


@dataclass(frozen=True)
class CaseFilters:
    """What the staff list is narrowed to; `divisions` limits a division reviewer to their own divisions."""

    kind: CaseKind | None = None
    division: str | None = None
    service_code: str | None = None
    status: CaseStatus | None = None
    open_only: bool = False
    channel: str | None = None
    overdue: Overdue | None = None
    received_from: datetime | None = None
    received_before: datetime | None = None
    text: str | None = None
    assignee_id: int | None = None
    subject: str | None = None  # what a complaint is about (COMPLAINT_SUBJECTS)
    divisions: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Cursor:
    """A position in the newest-first order: the creation time and id of a case."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        """Return the cursor as a short URL-safe string."""
        return f"{int(self.created_at.timestamp() * 1_000_000)}.{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """Return the cursor in `text`, or None when it is missing or malformed."""
        if not text:
            return None
        micros, _, ident = text.partition(".")
        if not (micros.isdigit() and ident.isdigit()) or len(micros) > 18 or len(ident) > 12:
            return None
        moment = datetime.fromtimestamp(int(micros) / 1_000_000, tz=timezone.utc)
        return cls(created_at=moment, id=int(ident))


@dataclass(frozen=True)
class Page:
    """One page of the staff list and the cursors of the pages around it."""

    items: list[Case]
    older: Cursor | None
    newer: Cursor | None


def _conditions(filters: CaseFilters, *, now: datetime, soon: datetime) -> list[ColumnElement[bool]]:
    """Return the SQL conditions of `filters`."""
    conditions: list[ColumnElement[bool]] = []
    if filters.divisions is not None:
        conditions.append(Case.division.in_(filters.divisions))
    for column, value in (
        (Case.kind, filters.kind),
        (Case.division, filters.division),
        (Case.service_code, filters.service_code),
        (Case.status, filters.status),
        (Case.channel, filters.channel),
        (Case.assignee_id, filters.assignee_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if filters.subject is not None:
        conditions.append(Case.details[COMPLAINT_SUBJECT_KEY].as_string() == filters.subject)
    if filters.open_only:
        conditions.append(Case.status.in_(OPEN_STATUSES))
    if filters.overdue is Overdue.OVERDUE:
        conditions.append(Case.due_at < now)
    elif filters.overdue is Overdue.DUE_SOON:
        conditions.append(Case.due_at.between(now, soon))
    if filters.received_from is not None:
        conditions.append(Case.created_at >= filters.received_from)
    if filters.received_before is not None:
        conditions.append(Case.created_at < filters.received_before)
    if filters.text:
        pattern = "%" + _LIKE_SPECIALS.sub(lambda match: "\\" + match.group(0), filters.text) + "%"
        matches: list[ColumnElement[bool]] = [
            Case.description.ilike(pattern, escape="\\"),
            Case.location.ilike(pattern, escape="\\"),
        ]
        reference = references.normalize(filters.text)
        if reference is not None:
            matches.append(Case.reference == reference)
        conditions.append(or_(*matches))
    return conditions


_LIKE_SPECIALS = re.compile(r"[\\%_]")


def search(
    *,
    session: Session,
    filters: CaseFilters,
    now: datetime,
    soon: datetime,
    limit: int = 50,
    older_than: Cursor | None = None,
    newer_than: Cursor | None = None,
) -> Page:
    """Return one page of matching cases, newest first, after `older_than` or before `newer_than` (keyset paging).

    Each page is an index range scan whatever its depth, so paging stays fast on a large table.
    """
    conditions = _conditions(filters, now=now, soon=soon)
    position = tuple_(Case.created_at, Case.id)
    query = select(Case).where(*conditions)
    if newer_than is not None:
        query = query.where(position > tuple_(literal(newer_than.created_at, UTCDateTime()), literal(newer_than.id)))
        rows = list(session.scalars(query.order_by(Case.created_at, Case.id).limit(limit + 1)))
        more_newer = len(rows) > limit
        items = rows[:limit][::-1]
        return Page(
            items=items,
            older=_cursor(items[-1]) if items else None,
            newer=_cursor(items[0]) if items and more_newer else None,
        )
    if older_than is not None:
        query = query.where(position < tuple_(literal(older_than.created_at, UTCDateTime()), literal(older_than.id)))
    rows = list(session.scalars(query.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit + 1)))
    items = rows[:limit]
    return Page(
        items=items,
        older=_cursor(items[-1]) if len(rows) > limit else None,
        newer=_cursor(items[0]) if items and older_than is not None else None,
    )


def count(*, session: Session, filters: CaseFilters, now: datetime, soon: datetime, cap: int = 10_000) -> int:
    """Return how many cases match, counting at most `cap` + 1 (a count of a huge result says little, slowly)."""
    matching = select(Case.id).where(*_conditions(filters, now=now, soon=soon)).limit(cap + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(matching)) or 0)


def search_and_count(
    *,
    session: Session,
    filters: CaseFilters,
    now: datetime,
    soon: datetime,
    limit: int = 50,
    older_than: Cursor | None = None,
    newer_than: Cursor | None = None,
    cap: int = 10_000,
) -> tuple[Page, int]:
    """Return one page (see `search`) and how many cases match in all (see `count`).

    When the first page already holds every match, its length is the count: a search for a rare word then scans
    the table once, not twice.
    """
    page = search(session=session, filters=filters, now=now, soon=soon, limit=limit, older_than=older_than,
                  newer_than=newer_than)
    if older_than is None and newer_than is None and page.older is None:
        return page, len(page.items)
    return page, count(session=session, filters=filters, now=now, soon=soon, cap=cap)


def export_rows(*, session: Session, filters: CaseFilters, now: datetime, soon: datetime) -> Iterator[Case]:
    """Yield every matching case, newest first, a batch at a time."""
    query = (
        select(Case)
        .where(*_conditions(filters, now=now, soon=soon))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .execution_options(yield_per=1000)
    )
    yield from session.scalars(query)


def _cursor(case: Case) -> Cursor:
    return Cursor(created_at=case.created_at, id=case.id)


# --- Handling a case -----------------------------------------------------------------------------------------------


class WorkflowError(Exception):
    """The case's state does not allow this action; the message says why in plain words."""


def history(*, session: Session, case: Case) -> list[CaseUpdate]:
    """Return the case's history, oldest first."""
    return list(session.scalars(select(CaseUpdate).where(CaseUpdate.case_id == case.id).order_by(CaseUpdate.id)))


def has_contact(*, session: Session, case: Case) -> bool:
    """Return True when contact with the resident is on record: a recorded contact, or a reply that was sent."""
    contact = or_(
        CaseUpdate.kind == UpdateKind.CONTACT,
        and_(CaseUpdate.kind == UpdateKind.REPLY, CaseUpdate.delivery == DELIVERY_SENT),
    )
    found = session.scalar(select(CaseUpdate.id).where(CaseUpdate.case_id == case.id, contact).limit(1))
    return found is not None


DELIVERY_SENT = "sent"  # pushed to the resident on their channel
DELIVERY_KEPT = "kept"  # kept in the conversation only: the channel cannot push (the REST web chat)


def contact_needed(action: str) -> str:
    """Return why a complaint cannot be finished by `action` ("resolve" or "close") yet, and what to do first."""
    return (
        f"A complaint can only be {action}d after contact with the resident is recorded. "
        f"Record when and how you contacted them, with a short summary (or send them a reply), then {action} it."
    )


class _Change:
    """Collect the field changes and history entries of one action, then apply them with one audit entry."""

    def __init__(self, session: Session, case: Case, actor: StaffUser) -> None:
        self.session = session
        self.case = case
        self.actor = actor
        self.now = utcnow()
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}
        self.updates: list[CaseUpdate] = []

    def set(self, **values: Any) -> None:
        for name, value in values.items():
            old = getattr(self.case, name)
            if old == value:
                continue
            self.before.setdefault(name, old)
            self.after[name] = value
            setattr(self.case, name, value)

    def add(self, kind: UpdateKind, **fields: Any) -> CaseUpdate:
        update = CaseUpdate(case_id=self.case.id, kind=kind, author_id=self.actor.id, created_at=self.now, **fields)
        self.updates.append(update)
        return update

    def status(self, status: CaseStatus, text: str | None = None) -> None:
        old = self.case.status
        if old is status:
            return
        self.set(status=status)
        self.add(UpdateKind.STATUS, old_value=old.value, new_value=status.value, text=text)

    def commit(self, action: str, *, recorded: Mapping[str, Any] | None = None) -> CaseUpdate | None:
        """Write the updates (each with the status they leave) and the audit entry, and commit."""
        self.case.updated_at = self.now
        for update in self.updates:
            update.status = self.case.status
            self.session.add(update)
        after = {**self.after, **(recorded or {})}
        audit.record(session=self.session, actor=self.actor, action=action, case=self.case, before=self.before,
                     after=after)
        self.session.commit()
        logger.info("%s: %s on case %s by staff %s", action, ", ".join(after) or "-", self.case.reference,
                    self.actor.id)
        return self.updates[-1] if self.updates else None


def _require_open(case: Case, doing: str) -> None:
    if case.status not in OPEN_STATUSES:
        raise WorkflowError(f"This case is {case.status.value.replace('_', ' ')}: reopen it before you {doing}.")


def _text(value: str | None, what: str, *, limit: int = 4000, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise WorkflowError(f"Please write {what}.")
        return None
    if len(value) > limit:
        raise WorkflowError(f"Please keep {what} under {limit:,} characters.")
    if "\x00" in value:
        raise WorkflowError(f"Remove the invisible NUL character from {what}.")
    return value


def _deadlines(levels: ServiceLevels, case: Case, *, kind: CaseKind, division: str | None) -> dict[str, Any]:
    """Return the deadline fields of `case` as they would be with `kind` and `division`."""
    acknowledge_due = levels.due(Limit.ACKNOWLEDGE, kind=kind, division=division, start=case.created_at)
    limit = Limit.RESPOND_STAGE_2 if case.stage >= 2 else Limit.RESPOND_STAGE_1
    clock = case.respond_clock_started_at or case.created_at
    respond_due = levels.due(limit, kind=kind, division=division, start=clock)
    if case.status not in OPEN_STATUSES:
        due = None
    elif case.acknowledged_at is None and case.stage == 1:
        due = acknowledge_due
    else:
        due = respond_due
    return {"acknowledge_due_at": acknowledge_due, "respond_due_at": respond_due, "due_at": due}


def acknowledge(*, session: Session, case: Case, actor: StaffUser, text: str | None = None) -> None:
    """Record that the resident's case was acknowledged; the response deadline becomes the next one."""
    if case.status is not CaseStatus.NEW:
        raise WorkflowError("This case was already acknowledged.")
    change = _Change(session, case, actor)
    change.set(acknowledged_at=change.now, due_at=case.respond_due_at)
    change.status(
        CaseStatus.IN_PROGRESS if case.assignee_id is not None else CaseStatus.ACKNOWLEDGED,
        _text(text, "a note", required=False),
    )
    change.commit("acknowledge")


def assign(*, session: Session, case: Case, actor: StaffUser, assignee: StaffUser | None) -> None:
    """Give the case to `assignee` (or to nobody); an acknowledged case is then in progress."""
    _require_open(case, "assign it")
    new_id = assignee.id if assignee is not None else None
    if new_id == case.assignee_id:
        raise WorkflowError("The case is already assigned that way.")
    if assignee is not None:
        _check_can_handle(assignee, case.division)
    old = session.get(StaffUser, case.assignee_id) if case.assignee_id is not None else None
    change = _Change(session, case, actor)
    change.set(assignee_id=new_id)
    change.add(
        UpdateKind.ASSIGNMENT,
        old_value=old.display_name if old else None,
        new_value=assignee.display_name if assignee else None,
    )
    if assignee is not None and case.status is CaseStatus.ACKNOWLEDGED:
        change.status(CaseStatus.IN_PROGRESS)
    change.commit("assign")


def _check_can_handle(person: StaffUser, division: str | None) -> None:
    if not person.is_active:
        raise WorkflowError(f"{person.display_name}'s account is switched off.")
    if not can_see_division(person.role, person.divisions, division):
        raise WorkflowError(f"{person.display_name} reviews other divisions and could not see this case.")


def reassign(
    *,
    session: Session,
    case: Case,
    actor: StaffUser,
    catalog: Catalog,
    division: str,
    service_code: str | None,
    reason: str | None,
) -> None:
    """Move the case to another division and/or category (service); its deadlines follow the new division."""
    found = catalog.find_division(division)
    if found is None:
        raise WorkflowError("Choose a division from the list.")
    code = None
    if service_code:
        match = catalog.find_service(service_code)
        if match is None:
            raise WorkflowError("Choose a category from the list.")
        service, owner = match
        if owner.code != found.code:
            raise WorkflowError(f"{service.service_name} belongs to {owner.name}, not {found.name}.")
        code = service.service_code
    if found.code == case.division and code == case.service_code:
        raise WorkflowError("The case already has that division and category.")
    note = _text(reason, "the reason", required=False, limit=1000)
    change = _Change(session, case, actor)
    if found.code != case.division:
        change.add(UpdateKind.DIVISION, old_value=case.division, new_value=found.code, text=note)
    if code != case.service_code:
        change.add(UpdateKind.CATEGORY, old_value=case.service_code, new_value=code, text=note)
    levels = service_levels(session=session, catalog=catalog)
    change.set(division=found.code, service_code=code, **_deadlines(levels, case, kind=case.kind, division=found.code))
    if case.assignee_id is not None:
        assignee = session.get(StaffUser, case.assignee_id)
        if assignee is not None and not can_see_division(assignee.role, assignee.divisions, found.code):
            change.set(assignee_id=None)
            change.add(UpdateKind.ASSIGNMENT, old_value=assignee.display_name, new_value=None)
    change.commit("reassign")


def reclassify(
    *, session: Session, case: Case, actor: StaffUser, catalog: Catalog, kind: CaseKind, reason: str | None
) -> None:
    """Record that the case is of another kind (the reference number stays); its deadlines follow the new kind."""
    if kind is case.kind:
        raise WorkflowError(f"The case is already a {kind.value.replace('_', ' ')}.")
    note = _text(reason, "why the kind changes", limit=1000)
    change = _Change(session, case, actor)
    change.add(UpdateKind.RECLASSIFICATION, old_value=case.kind.value, new_value=kind.value, text=note)
    levels = service_levels(session=session, catalog=catalog)
    change.set(kind=kind, **_deadlines(levels, case, kind=kind, division=case.division))
    change.commit("reclassify")


def add_note(*, session: Session, case: Case, actor: StaffUser, text: str) -> None:
    """Add a staff note to the case."""
    change = _Change(session, case, actor)
    note = _text(text, "the note")
    change.add(UpdateKind.NOTE, text=note)
    change.commit("note", recorded={"note": note})


def record_contact(
    *, session: Session, case: Case, actor: StaffUser, method: ContactMethod, contacted_at: datetime, summary: str
) -> None:
    """Record a contact with the resident: when, how, and what was said."""
    now = utcnow()
    if contacted_at > now + CLOCK_SKEW:
        raise WorkflowError("The contact time is in the future: give the time you reached the resident.")
    if contacted_at < case.created_at - CLOCK_SKEW:
        raise WorkflowError("The contact time is before the case arrived.")
    text = _text(summary, "a short summary of the contact")
    change = _Change(session, case, actor)
    change.add(UpdateKind.CONTACT, contact_method=method, contacted_at=contacted_at, text=text)
    change.commit("contact", recorded={"contact_method": method, "contacted_at": contacted_at, "summary": text})


CLOCK_SKEW = timedelta(minutes=5)


def record_action(*, session: Session, case: Case, actor: StaffUser, kind: UpdateKind, text: str) -> None:
    """Record a corrective action (what was put right) or a preventive action (what stops it happening again)."""
    if kind not in (UpdateKind.CORRECTIVE_ACTION, UpdateKind.PREVENTIVE_ACTION):
        raise WorkflowError("Choose corrective or preventive action.")
    description = _text(text, "the action taken")
    change = _Change(session, case, actor)
    change.add(kind, text=description)
    change.commit(kind.value, recorded={kind.value: description})


def escalate(
    *, session: Session, case: Case, actor: StaffUser, catalog: Catalog, handler: StaffUser, reason: str
) -> None:
    """Move the case to stage 2 with a different handler, and start the stage-2 response clock."""
    if case.stage >= 2:
        raise WorkflowError("This case is already at stage 2.")
    if case.status is CaseStatus.CLOSED:
        raise WorkflowError("This case is closed: reopen it before you escalate it.")
    if handler.id == case.assignee_id:
        raise WorkflowError("Stage 2 needs a different handler from stage 1: choose someone else.")
    _check_can_handle(handler, case.division)
    note = _text(reason, "why the case is escalated", limit=1000)
    old = session.get(StaffUser, case.assignee_id) if case.assignee_id is not None else None
    change = _Change(session, case, actor)
    change.add(UpdateKind.ESCALATION, old_value="1", new_value="2", text=note)
    change.add(UpdateKind.ASSIGNMENT, old_value=old.display_name if old else None, new_value=handler.display_name)
    change.set(stage=2, escalated_at=change.now, respond_clock_started_at=change.now, assignee_id=handler.id,
               resolved_at=None)
    change.status(CaseStatus.IN_PROGRESS)
    levels = service_levels(session=session, catalog=catalog)
    change.set(**_deadlines(levels, case, kind=case.kind, division=case.division))
    change.commit("escalate")


def _require_contact(session: Session, case: Case, action: str) -> None:
    """Refuse to resolve or close a complaint before contact with the resident is on record."""
    if case.kind is CaseKind.COMPLAINT and not has_contact(session=session, case=case):
        raise WorkflowError(contact_needed(action))


def resolve(*, session: Session, case: Case, actor: StaffUser, summary: str) -> None:
    """Mark the case resolved, saying what was done; it has no deadline any more.

    Raises:
        WorkflowError: the case is not open, or it is a complaint without a recorded contact.
    """
    _require_open(case, "resolve it")
    text = _text(summary, "what was done")
    _require_contact(session, case, "resolve")
    change = _Change(session, case, actor)
    change.set(resolved_at=change.now, due_at=None)
    change.status(CaseStatus.RESOLVED, text)
    change.commit("resolve")


def close(*, session: Session, case: Case, actor: StaffUser, text: str | None = None) -> None:
    """Close the case; a complaint needs a recorded contact with the resident first.

    Raises:
        WorkflowError: the case is closed already, or it is a complaint without a recorded contact.
    """
    if case.status is CaseStatus.CLOSED:
        raise WorkflowError("This case is already closed.")
    _require_contact(session, case, "close")
    change = _Change(session, case, actor)
    change.set(closed_at=change.now, resolved_at=case.resolved_at or change.now, due_at=None)
    change.status(CaseStatus.CLOSED, _text(text, "a closing note", required=False))
    change.commit("close")


def reopen(*, session: Session, case: Case, actor: StaffUser, catalog: Catalog, reason: str) -> None:
    """Reopen a resolved or closed case; the response clock of its stage starts again."""
    if case.status in OPEN_STATUSES:
        raise WorkflowError("This case is still open.")
    note = _text(reason, "why the case is reopened", limit=1000)
    change = _Change(session, case, actor)
    change.set(resolved_at=None, closed_at=None, respond_clock_started_at=change.now)
    change.status(CaseStatus.IN_PROGRESS, note)
    levels = service_levels(session=session, catalog=catalog)
    change.set(**_deadlines(levels, case, kind=case.kind, division=case.division))
    change.commit("reopen")


def record_reply(*, session: Session, case: Case, actor: StaffUser, text: str, delivered: bool) -> CaseUpdate:
    """Record a reply to the resident: pushed on their channel (`delivered`), or only kept in the conversation."""
    change = _Change(session, case, actor)
    update = change.add(
        UpdateKind.REPLY, text=text, new_value=case.channel, delivery=DELIVERY_SENT if delivered else DELIVERY_KEPT
    )
    change.commit("reply", recorded={"reply": text, "channel": case.channel, "delivery": update.delivery})
    return update


def forward(*, session: Session, case: Case, actor: StaffUser, team: str, text: str | None) -> None:
    """Record that a compliment was passed on to the team it names."""
    if case.kind is not CaseKind.COMPLIMENT:
        raise WorkflowError("Only compliments are forwarded to a team.")
    name = _text(team, "the team's name", limit=200)
    note = _text(text, "a message for the team", required=False)
    change = _Change(session, case, actor)
    change.add(UpdateKind.FORWARD, new_value=name, text=note)
    change.commit("forward", recorded={"team": name, "message": note})
