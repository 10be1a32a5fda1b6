"""Tables of the staff workspace: staff accounts, their sign-in sessions, and failed sign-ins lately."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.database.base import Base
from backend.database.types import UTCDateTime, utcnow
from backend.staff.permissions import Role

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class StaffUser(Base):
    """A person who works on cases."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(
        SAEnum(
            Role,
            name="staff_role",
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        )
    )
    # Division codes a division reviewer may see (ignored for other roles).
    divisions: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<StaffUser {self.id} {self.role.value}>"


class SignInFailure(Base):
    """Failed sign-ins lately from one client address: for one email, or for any ("") (backend.staff.throttle)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (UniqueConstraint("address", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    failures: Mapped[int] = mapped_column(Integer)
    # Failures are counted from this time on; the count starts again once it is older than the throttle's window.
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Until then, this address may not try (this email, or any): no password is checked.
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffSession(Base):
    """A signed-in browser: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The session ends at the earlier of: idle too long, or too long since sign-in (see backend.staff.sessions).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    user: Mapped[StaffUser] = relationship(lazy="joined")
