"""Write and read the audit log: every change to a case or an account, by whom, when, with before and after."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit.models import AuditEntry
from backend.database.types import utcnow

SYSTEM_ACTOR = "system"


class Actor(Protocol):
    """Whoever made a change: a staff account (backend.staff.models.StaffUser)."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


class Subject(Protocol):
    """What a change was made to: a case (backend.cases.models.Case)."""

    @property
    def id(self) -> int: ...

    @property
    def reference(self) -> str: ...


def jsonable(value: Any) -> Any:
    """Return `value` in a form JSON can hold: enums by value, datetimes in ISO 8601."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    return value


def record(
    *,
    session: Session,
    actor: Actor | None,
    action: str,
    case: Subject | None = None,
    subject: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    summary: str | None = None,
    actor_label: str | None = None,
) -> AuditEntry:
    """Add one entry to the audit log in the session's transaction (the caller commits with its change)."""
    entry = AuditEntry(
        created_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor=actor.email if actor is not None else (actor_label or SYSTEM_ACTOR),
        action=action,
        case_id=case.id if case is not None else None,
        subject=subject if subject is not None else (case.reference if case is not None else None),
        before=jsonable(dict(before or {})),
        after=jsonable(dict(after or {})),
        summary=summary,
    )
    session.add(entry)
    return entry


def for_case(*, session: Session, case_id: int) -> list[AuditEntry]:
    """Return the audit entries of one case, oldest first."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id)))


def latest(
    *, session: Session, limit: int = 100, before_id: int | None = None, action: str | None = None
) -> list[AuditEntry]:
    """Return up to `limit` entries, newest first, older than `before_id` when given."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))
