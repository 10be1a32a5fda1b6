"""The staff list of cases: filtered, a page at a time, newest first, and its CSV export."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.cases import search
from backend.cases.deadlines import ServiceLevels
from backend.cases.enums import COMPLAINT_SUBJECTS, CaseKind, CaseStatus
from backend.cases.models import Case
from backend.catalog.schemas import Catalog
from backend.catalog.views import get_catalog
from backend.database.core import Database, get_database, get_session
from backend.database.types import utcnow
from backend.staff.permissions import Permission
from backend.web import export
from backend.web.case_views import DONE_MESSAGES, due_state, levels_of, staff_names
from backend.web.core import PREFIX, PageError, Staff, require
from backend.web.templating import render

router = APIRouter(prefix=PREFIX, include_in_schema=False)

PAGE_SIZE = 50
COUNT_CAP = 10_000
KNOWN_CHANNELS = ("rest", "web", "sms", "telegram", "open311")
SessionDep = Annotated[Session, Depends(get_session)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
ViewCases = Annotated[Staff, Depends(require(Permission.VIEW_CASES))]


@dataclass
class ListQuery:
    """The list's filters as typed in the form, what they mean, and any problems with them."""

    values: dict[str, str]
    filters: search.CaseFilters
    problems: list[str] = field(default_factory=list)


def _enum_value(enum: Any, raw: str, what: str, problems: list[str]) -> Any:
    if not raw:
        return None
    try:
        return enum(raw)
    except ValueError:
        problems.append(f"Choose a {what} from the list.")
        return None


def _date(raw: str, what: str, problems: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"Give the {what} date as YYYY-MM-DD.")
        return None


FILTER_NAMES = (
    "kind",
    "division",
    "category",
    "subject",
    "status",
    "channel",
    "overdue",
    "from",
    "to",
    "q",
    "assignee",
)


def parse_list_query(params: Mapping[str, str], *, staff: Staff, levels: ServiceLevels, catalog: Catalog) -> ListQuery:
    """Return the list filters in `params` (query string), limited to what the staff member may see."""
    values = {name: (params.get(name) or "").strip()[:200] for name in FILTER_NAMES}
    problems: list[str] = []
    kind = _enum_value(CaseKind, values["kind"], "kind", problems)
    overdue = _enum_value(search.Overdue, values["overdue"], "deadline filter", problems)
    status: CaseStatus | None = None
    open_only = values["status"] == "open"
    if not open_only:
        status = _enum_value(CaseStatus, values["status"], "status", problems)
    division = None
    if values["division"]:
        found = catalog.find_division(values["division"])
        if found is None:
            problems.append("Choose a division from the list.")
        else:
            division = found.code
    category = None
    if values["category"]:
        match = catalog.find_service(values["category"])
        if match is None:
            problems.append("Choose a category from the list.")
        else:
            category = match[0].service_code
    subject = values["subject"] or None
    if subject is not None and subject not in COMPLAINT_SUBJECTS:
        problems.append("Choose what the complaint is about from the list.")
        subject = None
    start = _date(values["from"], "first", problems)
    end = _date(values["to"], "last", problems)
    assignee = None
    if values["assignee"] == "me":
        assignee = staff.user.id
    elif values["assignee"]:
        problems.append("Choose whose cases to show from the list.")
    filters = search.CaseFilters(
        kind=kind,
        division=division,
        service_code=category,
        status=status,
        open_only=open_only,
        channel=values["channel"] or None,
        overdue=overdue,
        received_from=levels.start_of_day(start) if start else None,
        received_before=levels.start_of_day(end + timedelta(days=1)) if end else None,
        text=values["q"] or None,
        assignee_id=assignee,
        subject=subject,
        divisions=staff.divisions,
    )
    return ListQuery(values=values, filters=filters, problems=problems)


def _channels(selected: str) -> list[str]:
    # A fixed list: asking the table for its distinct channels would scan it on every page view.
    return list(KNOWN_CHANNELS) + ([selected] if selected and selected not in KNOWN_CHANNELS else [])


@router.get("/cases")
def list_cases(request: Request, session: SessionDep, catalog: CatalogDep, staff: ViewCases) -> Response:
    """Show the cases the staff member may see, newest first, filtered, a page at a time."""
    levels = levels_of(request)
    query = parse_list_query(request.query_params, staff=staff, levels=levels, catalog=catalog)
    now = utcnow()
    soon = levels.soon_threshold(now)
    older = search.Cursor.decode(request.query_params.get("older"))
    newer = search.Cursor.decode(request.query_params.get("newer"))
    if query.problems:
        page = search.Page(items=[], older=None, newer=None)
        total = 0
    else:
        page, total = search.search_and_count(
            session=session,
            filters=query.filters,
            now=now,
            soon=soon,
            limit=PAGE_SIZE,
            older_than=older,
            newer_than=newer if older is None else None,
            cap=COUNT_CAP,
        )
    filter_query = "&".join(f"{name}={value}" for name, value in _encoded(query.values))
    return render(
        request,
        "staff/cases.html",
        {
            "staff": staff,
            "query": query,
            "page": page,
            "total": total,
            "count_cap": COUNT_CAP,
            "rows": [(case, due_state(case, now, soon)) for case in page.items],
            "names": staff_names(session),
            "kinds": list(CaseKind),
            "subjects": COMPLAINT_SUBJECTS,
            "statuses": list(CaseStatus),
            "channels": _channels(query.values["channel"]),
            "divisions": [d for d in catalog.divisions if staff.sees(d.code)],
            "filter_query": filter_query,
            "done": DONE_MESSAGES.get(request.query_params.get("done", "")),
        },
    )


def _encoded(values: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    for name, value in values.items():
        if value:
            yield name, quote(value, safe="")


@router.get("/cases.csv")
def export_cases(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    database: Annotated[Database, Depends(get_database)],
    staff: Annotated[Staff, Depends(require(Permission.EXPORT))],
) -> Response:
    """Download the filtered list as CSV; ``redacted=1`` leaves out personal details."""
    levels = levels_of(request)
    query = parse_list_query(request.query_params, staff=staff, levels=levels, catalog=catalog)
    if query.problems:
        raise PageError(422, "The export could not be made", " ".join(query.problems))
    redacted = request.query_params.get("redacted") == "1"
    now = utcnow()
    soon = levels.soon_threshold(now)
    audit.record(
        session=session,
        actor=staff.user,
        action="export",
        after={"filters": {k: v for k, v in query.values.items() if v}, "redacted": redacted},
    )
    session.commit()
    lines = export.csv_lines(
        _export_rows(database, query.filters, now, soon),
        catalog=catalog,
        levels=levels,
        names=staff_names(session),
        redacted=redacted,
        now=now,
        soon=soon,
    )
    name = f"cases-{levels.local_date(now).isoformat()}{'-redacted' if redacted else ''}.csv"
    return StreamingResponse(
        lines, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _export_rows(database: Database, filters: search.CaseFilters, now: datetime, soon: datetime) -> Iterator[Case]:
    # The response streams after the request's own session is closed: the rows come from a session of their own,
    # open exactly as long as the stream.
    with database.sessionmaker() as session:
        yield from search.export_rows(session=session, filters=filters, now=now, soon=soon)
