"""Find cases for the staff list: filters, keyset paging newest first, a capped count, and every match for export."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum

from sqlalchemy import ColumnElement, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from backend import references
from backend.cases.enums import COMPLAINT_SUBJECT_KEY, OPEN_STATUSES, CaseKind, CaseStatus
from backend.cases.models import Case
from backend.database.types import UTCDateTime


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
    page = search(
        session=session, filters=filters, now=now, soon=soon, limit=limit, older_than=older_than, newer_than=newer_than
    )
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
