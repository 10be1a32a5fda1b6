"""The `cases` table and each case's history (`case_updates`)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.cases.enums import CaseKind, CaseStatus, ContactMethod, UpdateKind
from backend.database.base import Base
from backend.database.types import UTCDateTime, utcnow
from backend.staff.models import StaffUser


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
    # The staff list pages newest first (keyset on created_at, id), often within one filter: one index each.
    __table_args__ = (
        Index("ix_cases_created_at_id", "created_at", "id"),
        Index("ix_cases_division_created_at", "division", "created_at", "id"),
        Index("ix_cases_status_created_at", "status", "created_at", "id"),
        Index("ix_cases_kind_created_at", "kind", "created_at", "id"),
        Index("ix_cases_service_code_created_at", "service_code", "created_at", "id"),
        Index("ix_cases_channel_created_at", "channel", "created_at", "id"),
        Index("ix_cases_assignee_id_created_at", "assignee_id", "created_at", "id"),
    )

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
    # The resident agreed that their words and the place may be published in the public Open311 feed (redacted).
    public_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    # SHA-256 of the request that used the idempotency key: a replay with another body is refused.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Handling: stage 1, or 2 after an escalation; who handles it now.
    stage: Mapped[int] = mapped_column(Integer, default=1)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Deadlines in working days (backend.cases.deadlines); due_at is the next one still to meet, None once resolved.
    acknowledge_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    respond_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # When the response clock last started: arrival, the escalation to stage 2, or a reopening.
    respond_clock_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Wrong guesses of the phone's last 4 digits by someone asking for the status from another conversation; after
    # too many, no digits are accepted until phone_check_locked_until (backend.cases.service.get_for_resident).
    phone_guesses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    phone_check_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Case {self.reference} {self.kind.value} {self.status.value}>"


class CaseUpdate(Base):
    """One entry of a case's history, with a snapshot of the status it left the case in."""

    __tablename__ = "case_updates"
    __table_args__ = (Index("ix_case_updates_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[UpdateKind] = mapped_column(_enum_column(UpdateKind, "update_kind"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[CaseStatus] = mapped_column(_enum_column(CaseStatus, "case_status"))
    # What changed, for changes of a field (status, division, kind, assignee, stage, category).
    old_value: Mapped[str | None] = mapped_column(String(255))
    new_value: Mapped[str | None] = mapped_column(String(255))
    # The note, contact summary, action taken, reply, or reason given.
    text: Mapped[str | None] = mapped_column(Text)
    contact_method: Mapped[ContactMethod | None] = mapped_column(_enum_column(ContactMethod, "contact_method"))
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # For replies: "sent" (pushed on the resident's channel) or "kept" (only in the conversation; see service).
    delivery: Mapped[str | None] = mapped_column(String(32))

    author: Mapped[StaffUser | None] = relationship(lazy="joined")
