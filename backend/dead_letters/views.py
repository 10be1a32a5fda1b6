"""Keep a report the case API refused as invalid (`POST /api/dead-letters`, from the action server), for staff to read
(backend.web.dead_letter_views): a report a resident made is never thrown away, even when it cannot be a case.

The action server sends one only after a 422 from `POST /api/cases`; it names the fields and the reasons, never the
values. The same idempotency key keeps one entry.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.auth import require_case_writer
from backend.database.core import get_session
from backend.dead_letters.models import DeadLetter

router = APIRouter(prefix="/api/dead-letters", tags=["dead letters"])
SessionDep = Annotated[Session, Depends(get_session)]


def _without_nul(value: Any) -> Any:
    """Return a JSON value with NUL characters (which PostgreSQL cannot store) shown as U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


class DeadLetterIn(BaseModel):
    """A refused report: the case body as sent, and the refusal's field locations and messages."""

    model_config = ConfigDict(extra="forbid")

    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x20-\x7e]+$")]
    case: dict[str, Any] = Field(description="The body POST /api/cases refused, as it was (up to the 64 KB limit).")
    problems: list[dict[str, Any]] = Field(default_factory=list, max_length=50)


class DeadLetterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str | None
    channel: str | None


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


@router.post(
    "", response_model=DeadLetterRead, status_code=status.HTTP_201_CREATED, dependencies=[Depends(require_case_writer)]
)
def keep(letter: DeadLetterIn, response: Response, session: SessionDep) -> DeadLetterRead:
    """Keep a refused report for staff; the same idempotency key answers the entry kept the first time (200)."""
    found = session.scalars(select(DeadLetter).where(DeadLetter.idempotency_key == letter.idempotency_key)).first()
    if found is None:
        case = _without_nul(letter.case)
        found = DeadLetter(
            idempotency_key=letter.idempotency_key,
            kind=_text(case.get("kind"), 32),
            channel=_text(case.get("channel"), 32),
            sender_id=_text(case.get("sender_id"), 255),
            report=case,
            problems=_without_nul(letter.problems),
        )
        session.add(found)
        try:
            session.commit()
        except IntegrityError:  # the same report, kept by a concurrent request
            session.rollback()
            found = session.scalars(
                select(DeadLetter).where(DeadLetter.idempotency_key == letter.idempotency_key)
            ).one()
            response.status_code = status.HTTP_200_OK
    else:
        response.status_code = status.HTTP_200_OK
    return DeadLetterRead.model_validate(found)
