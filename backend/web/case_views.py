"""Staff pages of one case: the case page with everything about it, and every action on it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from backend.cases import replies, workflow
from backend.cases.deadlines import ServiceLevels
from backend.cases.enums import (
    COMPLAINT_SUBJECT_KEY,
    COMPLAINT_SUBJECTS,
    OPEN_STATUSES,
    CaseKind,
    ContactMethod,
    UpdateKind,
)
from backend.cases.models import Case
from backend.catalog.schemas import Catalog
from backend.catalog.views import get_catalog
from backend.database.core import Database, get_database, get_session
from backend.database.types import utcnow
from backend.staff import users
from backend.staff.models import StaffUser
from backend.staff.permissions import Permission
from backend.transcripts import service as transcripts
from backend.web import case_details
from backend.web.core import (
    PREFIX,
    PageError,
    Staff,
    checked_form,
    forbidden,
    load_case,
    require,
    secure_cookies,
    settings_of,
)
from backend.web.templating import render

logger = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

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


def staff_names(session: Session) -> dict[int, str]:
    """Return every staff member's name by account id."""
    return {user.id: user.display_name for user in users.get_all(session=session)}


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
    request: Request,
    session: Session,
    database: Database,
    catalog: Catalog,
    staff: Staff,
    case: Case,
    *,
    error: str | None = None,
    failed_action: str | None = None,
    values: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    levels = levels_of(request)
    now = utcnow()
    soon = levels.soon_threshold(now)
    division = catalog.find_division(case.division) if case.division else None
    service = catalog.find_service(case.service_code) if case.service_code else None
    names = staff_names(session)
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
            "history": workflow.history(session=session, case=case),
            "has_contact": workflow.has_contact(session=session, case=case),
            "transcript": transcripts.read(
                engine=database.tracker_engine, sender_id=case.sender_id, at=case.created_at
            ),
            "details": case_details.readable(
                details,
                service=service[0] if service else None,
                channel=case.channel,
                received=case.created_at,
                zone=levels.zone,
            ),
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


# A refused action redirects to the case page (so that reloading never posts again); why it was refused and what
# was typed travel in a short-lived cookie for that one case, signed with the session's CSRF secret and read once.
REFUSED_COOKIE = "staff_refused"
REFUSED_MAX_AGE = 300
REFUSED_MAX_BYTES = 3600
TYPED_TOO_LONG = " What you typed was too long to keep here: type it again."


def _sign(staff: Staff, data: str) -> str:
    return hmac.new(staff.csrf_token.encode(), data.encode(), hashlib.sha256).hexdigest()


def _pack_refusal(staff: Staff, reference: str, action: str, error: str, values: dict[str, str]) -> str:
    """Return the cookie value for a refused action, dropping the longest typed values until it fits."""
    kept = dict(values)
    while True:
        body = json.dumps({"case": reference, "action": action, "error": error, "values": kept})
        data = base64.urlsafe_b64encode(zlib.compress(body.encode())).decode()
        if len(data) <= REFUSED_MAX_BYTES or not kept:
            return f"{data}.{_sign(staff, data)}"
        longest = max(kept, key=lambda name: len(kept[name]))
        del kept[longest]
        if not error.endswith(TYPED_TOO_LONG):
            error += TYPED_TOO_LONG


def _unpack_refusal(staff: Staff, reference: str, raw: str | None) -> tuple[str, str, dict[str, str]] | None:
    """Return (action, error, values) from a refusal cookie this session signed for this case, else None."""
    data, _, signature = (raw or "").partition(".")
    if not data or not hmac.compare_digest(signature, _sign(staff, data)):
        return None
    try:
        found = json.loads(zlib.decompress(base64.urlsafe_b64decode(data), bufsize=16_384))
    except (ValueError, zlib.error):
        return None
    if not isinstance(found, dict) or found.get("case") != reference or found.get("action") not in ACTIONS:
        return None
    values = found.get("values")
    values = {str(k): v for k, v in values.items() if isinstance(v, str)} if isinstance(values, dict) else {}
    return found["action"], str(found.get("error") or ""), values


@router.get("/cases/{reference}")
def read_case(
    request: Request,
    reference: str,
    session: SessionDep,
    catalog: CatalogDep,
    staff: ViewCases,
    database: Annotated[Database, Depends(get_database)],
) -> Response:
    """Show a case with everything about it: fields, deadlines, the conversation, its history, and its actions."""
    case = load_case(session, staff, reference)
    refused = None
    if request.query_params.get("refused") in ACTIONS:
        refused = _unpack_refusal(staff, case.reference, request.cookies.get(REFUSED_COOKIE))
    if refused is None:
        return _case_page(request, session, database, catalog, staff, case)
    action, error, values = refused
    response = _case_page(
        request, session, database, catalog, staff, case, error=error, failed_action=action, values=values
    )
    response.delete_cookie(REFUSED_COOKIE, path=f"{PREFIX}/cases/{case.reference}")
    return response


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
                raise workflow.WorkflowError("Choose a person from the list.")
            return None
        user = users.get(session=self.session, user_id=int(raw)) if raw.isdigit() else None
        if user is None:
            raise workflow.WorkflowError("Choose a person from the list.")
        return user


def _contact_time(context: ActionContext) -> datetime:
    raw = context.field("contacted_at")
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        raise workflow.WorkflowError("Give the date and time of the contact.") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=levels_of(context.request).zone)
    return local


def _choice(enum: Any, raw: str, message: str) -> Any:
    try:
        return enum(raw)
    except ValueError:
        raise workflow.WorkflowError(message) from None


def _acknowledge(c: ActionContext) -> None:
    workflow.acknowledge(session=c.session, case=c.case, actor=c.actor, text=c.field("text"))


def _assign(c: ActionContext) -> None:
    workflow.assign(session=c.session, case=c.case, actor=c.actor, assignee=c.person("assignee", required=False))


def _reassign(c: ActionContext) -> None:
    workflow.reassign(
        session=c.session,
        case=c.case,
        actor=c.actor,
        catalog=c.catalog,
        division=c.field("division"),
        service_code=c.field("category") or None,
        reason=c.field("reason"),
    )


def _reclassify(c: ActionContext) -> None:
    kind = _choice(CaseKind, c.field("kind"), "Choose the kind the case really is.")
    workflow.reclassify(
        session=c.session, case=c.case, actor=c.actor, catalog=c.catalog, kind=kind, reason=c.field("reason")
    )


def _note(c: ActionContext) -> None:
    workflow.add_note(session=c.session, case=c.case, actor=c.actor, text=c.field("text"))


def _contact(c: ActionContext) -> None:
    method = _choice(ContactMethod, c.field("method"), "Choose how you contacted the resident.")
    workflow.record_contact(
        session=c.session,
        case=c.case,
        actor=c.actor,
        method=method,
        contacted_at=_contact_time(c),
        summary=c.field("summary"),
    )


def _action(c: ActionContext) -> None:
    kind = _choice(UpdateKind, c.field("action_kind"), "Choose corrective or preventive action.")
    workflow.record_action(session=c.session, case=c.case, actor=c.actor, kind=kind, text=c.field("text"))


def _escalate(c: ActionContext) -> None:
    handler = c.person("handler", required=True)
    assert handler is not None
    workflow.escalate(
        session=c.session, case=c.case, actor=c.actor, catalog=c.catalog, handler=handler, reason=c.field("reason")
    )


def _resolve(c: ActionContext) -> None:
    workflow.resolve(session=c.session, case=c.case, actor=c.actor, summary=c.field("summary"))


def _close(c: ActionContext) -> None:
    workflow.close(session=c.session, case=c.case, actor=c.actor, text=c.field("text"))


def _reopen(c: ActionContext) -> None:
    workflow.reopen(session=c.session, case=c.case, actor=c.actor, catalog=c.catalog, reason=c.field("reason"))


def _reply(c: ActionContext) -> None:
    try:
        replies.reply(
            session=c.session, settings=settings_of(c.request), case=c.case, actor=c.actor, text=c.field("text")
        )
    except replies.ReplyError as exc:
        raise workflow.WorkflowError(str(exc)) from None


def _forward(c: ActionContext) -> None:
    workflow.forward(session=c.session, case=c.case, actor=c.actor, team=c.field("team"), text=c.field("text"))


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
    request: Request,
    reference: str,
    action: str,
    session: SessionDep,
    catalog: CatalogDep,
    staff: ViewCases,
    database: Annotated[Database, Depends(get_database)],
    form: Annotated[FormData, Depends(checked_form)],
) -> Response:
    """Do one action on a case, then show the case again (with a clear message when the action is refused)."""
    if action not in ACTIONS:
        raise PageError(404, "Not found", "There is no such action.")
    permission, handler = ACTIONS[action]
    case = load_case(session, staff, reference)
    if not staff.can(permission):
        raise forbidden()
    try:
        handler(
            ActionContext(request=request, session=session, catalog=catalog, case=case, actor=staff.user, form=form)
        )
    except workflow.WorkflowError as exc:
        session.rollback()
        session.refresh(case)
        values = {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}
        response = RedirectResponse(f"{PREFIX}/cases/{case.reference}?refused={action}#messages", status_code=303)
        response.set_cookie(
            REFUSED_COOKIE,
            _pack_refusal(staff, case.reference, action, str(exc), values),
            max_age=REFUSED_MAX_AGE,
            path=f"{PREFIX}/cases/{case.reference}",
            httponly=True,
            samesite="strict",
            secure=secure_cookies(request),
        )
        return response
    return RedirectResponse(f"{PREFIX}/cases/{case.reference}?done={action}#messages", status_code=303)
