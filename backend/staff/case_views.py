"""Staff pages of cases: the filtered list (and its CSV export), the case page, and every action on a case."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from backend.audit import service as audit
from backend.cases import service as cases
from backend.cases.deadlines import ServiceLevels
from backend.cases.enums import (
    COMPLAINT_SUBJECT_KEY,
    COMPLAINT_SUBJECTS,
    OPEN_STATUSES,
    CaseKind,
    CaseStatus,
    ContactMethod,
    UpdateKind,
)
from backend.cases.models import Case
from backend.catalog.schemas import Catalog
from backend.catalog.views import get_catalog
from backend.database.core import Database, get_database, get_session
from backend.database.types import utcnow
from backend.staff import export, replies, users
from backend.staff.models import StaffUser
from backend.staff.permissions import Permission
from backend.staff.templating import render
from backend.staff.web import PREFIX, PageError, Staff, checked_form, forbidden, load_case, require, settings_of
from backend.transcripts import service as transcripts

logger = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

PAGE_SIZE = 50
COUNT_CAP = 10_000
KNOWN_CHANNELS = ("rest", "web", "sms", "telegram", "open311")
SessionDep = Annotated[Session, Depends(get_session)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
ViewCases = Annotated[Staff, Depends(require(Permission.VIEW_CASES))]


def levels_of(request: Request) -> ServiceLevels:
    """Return the app's service levels."""
    levels: ServiceLevels = request.app.state.service_levels
    return levels


def due_state(case: Case, now: datetime, soon: datetime) -> str | None:
    """Return ``overdue``, ``due_soon`` or None for the case's next deadline."""
    if case.due_at is None:
        return None
    if case.due_at < now:
        return "overdue"
    return "due_soon" if case.due_at <= soon else None


# --- The list -------------------------------------------------------------------------------------------------------


@dataclass
class ListQuery:
    """The list's filters as typed in the form, what they mean, and any problems with them."""

    values: dict[str, str]
    filters: cases.CaseFilters
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
    "kind", "division", "category", "subject", "status", "channel", "overdue", "from", "to", "q", "assignee",
)


def parse_list_query(params: Mapping[str, str], *, staff: Staff, levels: ServiceLevels, catalog: Catalog) -> ListQuery:
    """Return the list filters in `params` (query string), limited to what the staff member may see."""
    values = {name: (params.get(name) or "").strip()[:200] for name in FILTER_NAMES}
    problems: list[str] = []
    kind = _enum_value(CaseKind, values["kind"], "kind", problems)
    overdue = _enum_value(cases.Overdue, values["overdue"], "deadline filter", problems)
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
    filters = cases.CaseFilters(
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


def _staff_names(session: Session) -> dict[int, str]:
    return {user.id: user.display_name for user in users.get_all(session=session)}


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
    older = cases.Cursor.decode(request.query_params.get("older"))
    newer = cases.Cursor.decode(request.query_params.get("newer"))
    if query.problems:
        page = cases.Page(items=[], older=None, newer=None)
        total = 0
    else:
        page, total = cases.search_and_count(
            session=session, filters=query.filters, now=now, soon=soon, limit=PAGE_SIZE, older_than=older,
            newer_than=newer if older is None else None, cap=COUNT_CAP,
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
            "names": _staff_names(session),
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
    request: Request, session: SessionDep, catalog: CatalogDep,
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
    audit.record(session=session, actor=staff.user, action="export",
                 after={"filters": {k: v for k, v in query.values.items() if v}, "redacted": redacted})
    session.commit()
    lines = export.csv_lines(_export_rows(database, query.filters, now, soon), catalog=catalog, levels=levels,
                             names=_staff_names(session), redacted=redacted, now=now, soon=soon)
    name = f"cases-{levels.local_date(now).isoformat()}{'-redacted' if redacted else ''}.csv"
    return StreamingResponse(lines, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _export_rows(database: Database, filters: cases.CaseFilters, now: datetime, soon: datetime) -> Iterator[Case]:
    # The response streams after the request's own session is closed: the rows come from a session of their own,
    # open exactly as long as the stream.
    with database.sessionmaker() as session:
        yield from cases.export_rows(session=session, filters=filters, now=now, soon=soon)


# --- The case page --------------------------------------------------------------------------------------------------

DONE_MESSAGES = {
    "acknowledge": "The case is acknowledged.",
    "assign": "The assignment is saved.",
    "reassign": "The division and category are saved.",
    "reclassify": "The kind is changed, and the change is recorded.",
    "note": "The note is added.",
    "contact": "The contact with the resident is recorded.",
    "action": "The action is recorded.",
    "escalate": "The case is at stage 2 with its new handler.",
    "resolve": "The case is resolved.",
    "close": "The case is closed.",
    "reopen": "The case is reopened.",
    "reply": "The reply is recorded on the case.",
    "forward": "The compliment is forwarded, and that is recorded.",
    "password": "Your password is changed. Other sessions were signed out.",
}


def _case_page(
    request: Request, session: Session, database: Database, catalog: Catalog, staff: Staff, case: Case, *,
    error: str | None = None, failed_action: str | None = None, values: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    levels = levels_of(request)
    now = utcnow()
    soon = levels.soon_threshold(now)
    division = catalog.find_division(case.division) if case.division else None
    service = catalog.find_service(case.service_code) if case.service_code else None
    names = _staff_names(session)
    details = dict(case.details or {})
    attachments = details.pop("attachments", None)
    subject = details.pop(COMPLAINT_SUBJECT_KEY, None)
    return render(
        request,
        "staff/case.html",
        {
            "staff": staff,
            "case": case,
            "division": division,
            "service": service[0] if service else None,
            "assignee": names.get(case.assignee_id) if case.assignee_id is not None else None,
            "names": names,
            "due": due_state(case, now, soon),
            "is_open": case.status in OPEN_STATUSES,
            "history": cases.history(session=session, case=case),
            "has_contact": cases.has_contact(session=session, case=case),
            "transcript": transcripts.read(engine=database.tracker_engine, sender_id=case.sender_id,
                                           at=case.created_at),
            "details": details,
            "subject": COMPLAINT_SUBJECTS.get(subject, subject) if isinstance(subject, str) else None,
            "attachments": attachments if isinstance(attachments, list) else [],
            "handlers": users.handlers(session=session, division=case.division),
            "kinds": list(CaseKind),
            "methods": list(ContactMethod),
            "divisions": catalog.divisions,
            "error": error,
            "failed_action": failed_action,
            "values": values or {},
            "done": DONE_MESSAGES.get(request.query_params.get("done", "")),
            "now_local": now.astimezone(levels.zone).strftime("%Y-%m-%dT%H:%M"),
            "reply_enabled": bool(settings_of(request).rasa_url),
            "sms_friendly_chars": replies.SMS_FRIENDLY_CHARS,
            "max_reply_chars": replies.MAX_REPLY_CHARS,
        },
        status_code=status_code,
    )


@router.get("/cases/{reference}")
def read_case(
    request: Request, reference: str, session: SessionDep, catalog: CatalogDep, staff: ViewCases,
    database: Annotated[Database, Depends(get_database)],
) -> Response:
    """Show a case with everything about it: fields, deadlines, the conversation, its history, and its actions."""
    case = load_case(session, staff, reference)
    return _case_page(request, session, database, catalog, staff, case)


# --- Actions --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionContext:
    """What an action handler gets."""

    request: Request
    session: Session
    catalog: Catalog
    case: Case
    actor: StaffUser
    form: FormData

    def field(self, name: str) -> str:
        value = self.form.get(name)
        return value if isinstance(value, str) else ""

    def person(self, name: str, *, required: bool) -> StaffUser | None:
        raw = self.field(name)
        if not raw:
            if required:
                raise cases.WorkflowError("Choose a person from the list.")
            return None
        user = users.get(session=self.session, user_id=int(raw)) if raw.isdigit() else None
        if user is None:
            raise cases.WorkflowError("Choose a person from the list.")
        return user


def _contact_time(context: ActionContext) -> datetime:
    raw = context.field("contacted_at")
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        raise cases.WorkflowError("Give the date and time of the contact.") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=levels_of(context.request).zone)
    return local


def _choice(enum: Any, raw: str, message: str) -> Any:
    try:
        return enum(raw)
    except ValueError:
        raise cases.WorkflowError(message) from None


def _acknowledge(c: ActionContext) -> None:
    cases.acknowledge(session=c.session, case=c.case, actor=c.actor, text=c.field("text"))


def _assign(c: ActionContext) -> None:
    cases.assign(session=c.session, case=c.case, actor=c.actor, assignee=c.person("assignee", required=False))


def _reassign(c: ActionContext) -> None:
    cases.reassign(session=c.session, case=c.case, actor=c.actor, catalog=c.catalog, division=c.field("division"),
                   service_code=c.field("category") or None, reason=c.field("reason"))


def _reclassify(c: ActionContext) -> None:
    kind = _choice(CaseKind, c.field("kind"), "Choose the kind the case really is.")
    cases.reclassify(session=c.session, case=c.case, actor=c.actor, catalog=c.catalog, kind=kind,
                     reason=c.field("reason"))


def _note(c: ActionContext) -> None:
    cases.add_note(session=c.session, case=c.case, actor=c.actor, text=c.field("text"))


def _contact(c: ActionContext) -> None:
    method = _choice(ContactMethod, c.field("method"), "Choose how you contacted the resident.")
    cases.record_contact(session=c.session, case=c.case, actor=c.actor, method=method,
                         contacted_at=_contact_time(c), summary=c.field("summary"))


def _action(c: ActionContext) -> None:
    kind = _choice(UpdateKind, c.field("action_kind"), "Choose corrective or preventive action.")
    cases.record_action(session=c.session, case=c.case, actor=c.actor, kind=kind, text=c.field("text"))


def _escalate(c: ActionContext) -> None:
    handler = c.person("handler", required=True)
    assert handler is not None
    cases.escalate(session=c.session, case=c.case, actor=c.actor, catalog=c.catalog, handler=handler,
                   reason=c.field("reason"))


def _resolve(c: ActionContext) -> None:
    cases.resolve(session=c.session, case=c.case, actor=c.actor, summary=c.field("summary"))


def _close(c: ActionContext) -> None:
    cases.close(session=c.session, case=c.case, actor=c.actor, text=c.field("text"))


def _reopen(c: ActionContext) -> None:
    cases.reopen(session=c.session, case=c.case, actor=c.actor, catalog=c.catalog, reason=c.field("reason"))


def _reply(c: ActionContext) -> None:
    try:
        replies.reply(session=c.session, settings=settings_of(c.request), case=c.case, actor=c.actor,
                      text=c.field("text"))
    except replies.ReplyError as exc:
        raise cases.WorkflowError(str(exc)) from None


def _forward(c: ActionContext) -> None:
    cases.forward(session=c.session, case=c.case, actor=c.actor, team=c.field("team"), text=c.field("text"))


ACTIONS: dict[str, tuple[Permission, Callable[[ActionContext], None]]] = {
    "acknowledge": (Permission.HANDLE_CASES, _acknowledge),
    "assign": (Permission.HANDLE_CASES, _assign),
    "reassign": (Permission.HANDLE_CASES, _reassign),
    "reclassify": (Permission.HANDLE_CASES, _reclassify),
    "note": (Permission.HANDLE_CASES, _note),
    "contact": (Permission.HANDLE_CASES, _contact),
    "action": (Permission.HANDLE_CASES, _action),
    "escalate": (Permission.ESCALATE, _escalate),
    "resolve": (Permission.HANDLE_CASES, _resolve),
    "close": (Permission.HANDLE_CASES, _close),
    "reopen": (Permission.REOPEN, _reopen),
    "reply": (Permission.HANDLE_CASES, _reply),
    "forward": (Permission.HANDLE_CASES, _forward),
}


@router.post("/cases/{reference}/{action}")
def act_on_case(
    request: Request, reference: str, action: str, session: SessionDep, catalog: CatalogDep, staff: ViewCases,
    database: Annotated[Database, Depends(get_database)], form: Annotated[FormData, Depends(checked_form)],
) -> Response:
    """Do one action on a case, then show the case again (with a clear message when the action is refused)."""
    if action not in ACTIONS:
        raise PageError(404, "Not found", "There is no such action.")
    permission, handler = ACTIONS[action]
    case = load_case(session, staff, reference)
    if not staff.can(permission):
        raise forbidden()
    try:
        handler(ActionContext(request=request, session=session, catalog=catalog, case=case, actor=staff.user,
                              form=form))
    except cases.WorkflowError as exc:
        session.rollback()
        session.refresh(case)
        values = {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}
        return _case_page(request, session, database, catalog, staff, case, error=str(exc), failed_action=action,
                          values=values, status_code=409)
    return RedirectResponse(f"{PREFIX}/cases/{case.reference}?done={action}#messages", status_code=303)
