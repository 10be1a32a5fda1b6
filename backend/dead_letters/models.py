"""The `dead_letters` table: a report the assistant could not record as a case, exactly as it was sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.database.base import Base
from backend.database.types import UTCDateTime, utcnow


class DeadLetter(Base):
    """A report POST /api/cases refused as invalid (422), with where and why, for staff to act on by hand."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_created_at_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sender_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    problems: Mapped[list[Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
