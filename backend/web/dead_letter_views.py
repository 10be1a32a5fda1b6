"""The staff page of reports the case API refused as invalid (`/staff/dead-letters`), newest first."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.database.core import get_session
from backend.dead_letters.models import DeadLetter
from backend.staff.permissions import Permission
from backend.web.core import Staff, forbidden, require
from backend.web.templating import render

router = APIRouter(prefix="/staff/dead-letters", include_in_schema=False)
SessionDep = Annotated[Session, Depends(get_session)]
PAGE = 50


@router.get("")
def dead_letter_list(
    request: Request,
    session: SessionDep,
    staff: Annotated[Staff, Depends(require(Permission.HANDLE_CASES))],
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Show the reports that could not become cases, newest first, with everything the resident said (to staff
    who see every division: a report refused before routing belongs to none)."""
    if staff.divisions is not None:
        raise forbidden("These reports belong to no division yet: an agent or a supervisor handles them.")
    query = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(PAGE + 1)
    if before:
        query = query.where(DeadLetter.id < before)
    letters = list(session.scalars(query))
    older = letters[PAGE - 1].id if len(letters) > PAGE else None
    shown = [
        {"letter": letter, "report": json.dumps(letter.report, ensure_ascii=False, indent=2, sort_keys=True)}
        for letter in letters[:PAGE]
    ]
    return render(
        request,
        "staff/dead_letters.html",
        {"staff": staff, "letters": shown, "older": older, "section": "dead_letters"},
    )
