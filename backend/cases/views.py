"""Web API of cases: the action server creates them, staff read and list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from sqlalchemy.orm import Session

from backend import references
from backend.auth import require_case_writer, require_staff
from backend.cases import service
from backend.cases.enums import CaseKind, CaseStatus
from backend.cases.schemas import (
    CaseCreate,
    CaseCreated,
    CaseDetail,
    CaseList,
    CaseRead,
    CaseStatusQuery,
    CaseStatusRead,
)
from backend.catalog.schemas import Catalog
from backend.catalog.views import get_catalog
from backend.database.core import Database, get_database, get_session
from backend.errors import problem
from backend.transcripts import service as transcript_service

router = APIRouter(prefix="/api/cases", tags=["cases"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=r"^[\x20-\x7e]+$",
        description="Any printable ASCII up to 128 characters; a retry with the same key returns the same case.",
    ),
]


@router.post(
    "",
    response_model=CaseCreated,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_case_writer)],
    responses={
        200: {"description": "A retry with the same Idempotency-Key: the case created the first time."},
        409: {"description": "The Idempotency-Key was already used with a different body."},
    },
)
def create_case(
    case_in: CaseCreate,
    response: Response,
    session: Annotated[Session, Depends(get_session)],
    catalog: Annotated[Catalog, Depends(get_catalog)],
    idempotency_key: IdempotencyKey = None,
) -> CaseCreated:
    """Record a new case and return it with its reference number and the time limits it gets."""
    try:
        case, created = service.create(
            session=session, catalog=catalog, case_in=case_in, idempotency_key=idempotency_key
        )
    except service.CaseInputError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=[problem(("body", exc.field), exc.message)]
        ) from None
    except service.IdempotencyConflict:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="This Idempotency-Key was already used with a different request body.",
        ) from None
    if not created:
        response.status_code = status.HTTP_200_OK
    acknowledge_days, respond_days = service.time_limits(session=session, catalog=catalog, case=case)
    return CaseCreated(
        **CaseRead.model_validate(case).model_dump(),
        acknowledge_days=acknowledge_days,
        respond_days=respond_days,
        acknowledge_due_at=case.acknowledge_due_at,
        respond_due_at=case.respond_due_at,
    )


@router.get("", response_model=CaseList, dependencies=[Depends(require_staff)])
def list_cases(
    session: Annotated[Session, Depends(get_session)],
    kind: CaseKind | None = None,
    status_: Annotated[CaseStatus | None, Query(alias="status")] = None,
    channel: str | None = None,
    sender_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseList:
    """Return cases newest first, filtered by kind, status, channel or conversation."""
    cases, total = service.get_all(
        session=session, kind=kind, status=status_, channel=channel, sender_id=sender_id, limit=limit, offset=offset
    )
    return CaseList(items=[CaseRead.model_validate(case) for case in cases], total=total, limit=limit, offset=offset)


@router.get(
    "/{reference}",
    response_model=CaseDetail,
    dependencies=[Depends(require_staff)],
    responses={400: {"description": "Not a valid reference number."}, 404: {"description": "No such case."}},
)
def read_case(
    reference: str,
    session: Annotated[Session, Depends(get_session)],
    database: Annotated[Database, Depends(get_database)],
) -> CaseDetail:
    """Return the case with this reference and the conversation behind it."""
    canonical = references.normalize(reference)
    if canonical is None or not references.is_valid(canonical):
        shown = reference if len(reference) <= 40 else reference[:40] + "..."
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"{shown} is not a valid reference number")
    case = service.get_by_reference(session=session, reference=canonical)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No case has the reference {canonical}")
    transcript = transcript_service.read(engine=database.tracker_engine, sender_id=case.sender_id, at=case.created_at)
    return CaseDetail(
        **CaseRead.model_validate(case).model_dump(),
        sender_id=case.sender_id,
        details=case.details,
        public_consent=case.public_consent,
        transcript=transcript,
    )


@router.post(
    "/status",
    response_model=CaseStatusRead,
    dependencies=[Depends(require_case_writer)],
    responses={
        400: {"description": "Not a valid reference number (wrong shape or check character)."},
        404: {"description": "No case with this reference filed by this resident."},
    },
)
def read_case_status(query: CaseStatusQuery, session: Annotated[Session, Depends(get_session)]) -> CaseStatusRead:
    """Return the status of a resident's own case; anyone else's case is answered exactly like a missing one."""
    canonical = references.normalize(query.reference)
    if canonical is None or not references.is_valid(canonical):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="This is not a valid reference number.")
    case = service.get_for_resident(
        session=session, reference=canonical, sender_id=query.sender_id, phone_last4=query.phone_last4
    )
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No case with this reference was filed by you.")
    return CaseStatusRead.model_validate(case)
