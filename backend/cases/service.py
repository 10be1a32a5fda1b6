"""Create and look up cases."""

from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import references
from backend.cases.enums import CaseKind, CaseStatus
from backend.cases.models import Case
from backend.cases.schemas import CaseCreate
from backend.catalog.schemas import Catalog
from backend.database.types import utcnow

logger = logging.getLogger(__name__)

MAX_REFERENCE_ATTEMPTS = 5


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
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint,
            created_at=now,
            updated_at=now,
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
    canonical = json.dumps(case_in.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
