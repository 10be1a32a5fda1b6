"""Create and look up cases: the JSON API's and Open311's creation with idempotency keys, a resident's own case
with its phone check, and the service levels every new case's deadlines come from. Finding cases for the staff list
is in `backend.cases.search`; handling them, in `backend.cases.workflow`."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import references
from backend.cases.deadlines import Limit, ServiceLevels
from backend.cases.enums import CaseKind, CaseStatus
from backend.cases.models import Case
from backend.cases.schemas import CaseCreate
from backend.catalog.schemas import Catalog
from backend.database.types import utcnow

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
