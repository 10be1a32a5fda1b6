"""The `cases` table."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.cases.enums import CaseKind, CaseStatus
from backend.database.base import Base
from backend.database.types import UTCDateTime, utcnow


def _enum_column(enum: type[Enum], name: str) -> SAEnum:
    """Return a portable enum type: a VARCHAR with a CHECK constraint holding the enum's values."""
    return SAEnum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Case(Base):
    """One complaint, compliment or service request."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    kind: Mapped[CaseKind] = mapped_column(_enum_column(CaseKind, "case_kind"))
    status: Mapped[CaseStatus] = mapped_column(_enum_column(CaseStatus, "case_status"), default=CaseStatus.NEW)
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    division: Mapped[str | None] = mapped_column(String(64))
    service_code: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    sender_id: Mapped[str] = mapped_column(String(255), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"), default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    # SHA-256 of the request that used the idempotency key: a replay with another body is refused.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Case {self.reference} {self.kind.value} {self.status.value}>"
