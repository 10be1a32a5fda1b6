"""The staff page of the audit log: newest first, a page at a time, or the whole log of one case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from backend import references
from backend.audit import service as audit
from backend.cases import service as cases
from backend.database.core import get_session
from backend.staff.permissions import Permission
from backend.web.core import PREFIX, Staff, require
from backend.web.templating import render

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SessionDep = Annotated[Session, Depends(get_session)]

AUDIT_PAGE = 100


@router.get("/audit")
def audit_log(
    request: Request,
    session: SessionDep,
    staff: Annotated[Staff, Depends(require(Permission.VIEW_AUDIT))],
    case: Annotated[str | None, Query(max_length=40)] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Show the audit log, newest first, or the whole log of one case."""
    reference = references.normalize(case) if case else None
    error = None
    if case and reference is None:
        error = "That is not a valid reference number."
    if reference:
        found = cases.get_by_reference(session=session, reference=reference)
        entries = audit.for_case(session=session, case_id=found.id)[::-1] if found else []
        if found is None:
            error = f"No case has the reference {reference}."
        older = None
    else:
        entries = audit.latest(session=session, limit=AUDIT_PAGE + 1, before_id=before)
        older = entries[AUDIT_PAGE - 1].id if len(entries) > AUDIT_PAGE else None
        entries = entries[:AUDIT_PAGE]
    return render(
        request,
        "staff/audit.html",
        {"staff": staff, "entries": entries, "case": reference or "", "older": older, "error": error},
    )
