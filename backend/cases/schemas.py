"""Request and response bodies of the cases API."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from backend.cases.enums import CaseKind, CaseStatus
from backend.transcripts.schemas import Turn

MAX_DETAILS_KEYS = 50
MAX_DETAILS_BYTES = 8 * 1024


def _contains_nul(value: Any) -> bool:
    """Return True when a NUL character hides in a string, or in any key or string of a JSON value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


def _no_nul(value: str) -> str:
    """Refuse NUL characters, which PostgreSQL cannot store."""
    if _contains_nul(value):
        raise ValueError("must not contain NUL characters")
    return value


NoNul = AfterValidator(_no_nul)
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), NoNul]
Location = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), NoNul]
CatalogName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
SenderId = Annotated[str, StringConstraints(min_length=1, max_length=255), NoNul]
Channel = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")]


class CaseCreate(BaseModel):
    """A new case, as sent by the action server (or by staff)."""

    model_config = ConfigDict(extra="forbid")

    kind: CaseKind
    description: Description
    location: Location | None = None
    division: CatalogName | None = Field(default=None, description="A division code or name from the catalog.")
    service_code: CatalogName | None = Field(default=None, description="A service code from the catalog.")
    channel: Channel = Field(description="Where the resident wrote from, e.g. rest, web, sms, telegram, open311.")
    sender_id: SenderId = Field(description="Rasa's conversation id.")
    details: dict[str, Any] | None = Field(default=None, description="Other answers (at most 50 keys, 8 KB).")
    public_consent: bool = Field(
        default=False,
        description="True when the resident agreed, in the conversation, that their words and the place may be "
        "published in the public Open311 feed (with personal details removed). Unset or false: the feed shows only "
        "the service, status and dates.",
    )

    @field_validator("location")
    @classmethod
    def _blank_location_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("details")
    @classmethod
    def _details_fit(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if len(value) > MAX_DETAILS_KEYS:
            raise ValueError(f"must have at most {MAX_DETAILS_KEYS} keys")
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if len(encoded) > MAX_DETAILS_BYTES:
            raise ValueError(f"must be at most {MAX_DETAILS_BYTES} bytes as JSON")
        if _contains_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class CaseRead(BaseModel):
    """A case as returned by the API."""

    model_config = ConfigDict(from_attributes=True)

    reference: str
    kind: CaseKind
    status: CaseStatus
    description: str
    location: str | None
    division: str | None
    service_code: str | None
    channel: str
    created_at: datetime
    updated_at: datetime


class CaseCreated(CaseRead):
    """A new case, with the time limits its kind and division get (backend/service_levels.yml, then the catalog),
    so that the assistant tells the resident what happens next and by when."""

    acknowledge_days: int
    respond_days: int
    acknowledge_due_at: datetime | None
    respond_due_at: datetime | None


class CaseDetail(CaseRead):
    """A case with everything staff need: the conversation id, the extra answers and the transcript."""

    sender_id: str
    details: dict[str, Any]
    public_consent: bool
    transcript: list[Turn]


class CaseList(BaseModel):
    """One page of cases, newest first."""

    items: list[CaseRead]
    total: int
    limit: int
    offset: int


class CaseStatusQuery(BaseModel):
    """A resident asking where their case is: the reference, who asks, and optionally a phone check."""

    model_config = ConfigDict(extra="forbid")

    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    sender_id: SenderId = Field(description="The Rasa conversation asking.")
    phone_last4: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = Field(
        default=None, description="The last 4 digits of the phone number given with the case."
    )


class CaseStatusRead(BaseModel):
    """What a resident may learn about their own case."""

    model_config = ConfigDict(from_attributes=True)

    reference: str
    kind: CaseKind
    status: CaseStatus
    division: str | None
    created_at: datetime
    updated_at: datetime
