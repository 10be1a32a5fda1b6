"""Handle a case: the staff actions (acknowledge, assign, reassign, reclassify, note, contact, corrective or preventive
action, escalate, resolve, close, reopen, reply, forward), each recorded in the case's history and in the audit log
in the same transaction, with the deadlines they move."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.cases.deadlines import Limit, ServiceLevels
from backend.cases.enums import OPEN_STATUSES, CaseKind, CaseStatus, ContactMethod, UpdateKind
from backend.cases.models import Case, CaseUpdate
from backend.cases.service import service_levels
from backend.catalog.schemas import Catalog
from backend.database.types import utcnow
from backend.staff.models import StaffUser
from backend.staff.permissions import can_see_division

logger = logging.getLogger(__name__)


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
        audit.record(
            session=self.session, actor=self.actor, action=action, case=self.case, before=self.before, after=after
        )
        self.session.commit()
        logger.info(
            "%s: %s on case %s by staff %s", action, ", ".join(after) or "-", self.case.reference, self.actor.id
        )
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
    """Move the complaint to stage 2 with a different handler, and start the stage-2 response clock."""
    if case.kind is not CaseKind.COMPLAINT:
        raise WorkflowError("Only complaints have a stage 2: change the kind first if this is really a complaint.")
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
    change.set(
        stage=2, escalated_at=change.now, respond_clock_started_at=change.now, assignee_id=handler.id, resolved_at=None
    )
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
