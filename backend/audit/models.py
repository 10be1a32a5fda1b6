"""The audit log's table: one row per change, kept even when the account or the case it names is removed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.database.base import Base
from backend.database.types import UTCDateTime, utcnow

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class AuditEntry(Base):
    """One change made by someone: who, what, when, and the values before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # The actor's email at the time, kept even if the account is later renamed or removed.
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    subject: Mapped[str | None] = mapped_column(String(254))
    before: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    summary: Mapped[str | None] = mapped_column(Text)
