"""Sign-in sessions: a random token in an HttpOnly cookie, its SHA-256 in the database, a CSRF token per session.

A session ends when it has been idle too long or is too old (see `Settings`), or when its owner signs out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.database.types import utcnow
from backend.staff.models import StaffSession, StaffUser

COOKIE_NAME = "intake_staff_session"
# Refreshing the idle deadline on every request would write on every page view: once a minute is enough.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Started:
    """A new session and the token for its cookie (only ever seen here and in the browser)."""

    token: str
    record: StaffSession


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _expiry(settings: Settings, *, created_at: datetime, now: datetime) -> datetime:
    idle = now + timedelta(minutes=settings.staff_session_idle_minutes)
    return min(idle, created_at + timedelta(hours=settings.staff_session_max_hours))


def start(*, session: Session, settings: Settings, user: StaffUser) -> Started:
    """Open a session for `user`, clear expired ones, and commit."""
    now = utcnow()
    session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    record = StaffSession(
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=_expiry(settings, created_at=now, now=now),
    )
    session.add(record)
    session.commit()
    return Started(token=token, record=record)


def find(*, session: Session, settings: Settings, token: str | None) -> StaffSession | None:
    """Return the live session of this cookie token (sliding its idle deadline), or None."""
    if not token or len(token) > 128:
        return None
    now = utcnow()
    record = session.scalar(select(StaffSession).where(StaffSession.token_hash == _digest(token)))
    if record is None:
        return None
    if record.expires_at <= now or not record.user.is_active:
        session.delete(record)
        session.commit()
        return None
    if now - record.last_seen_at >= TOUCH_INTERVAL:
        record.last_seen_at = now
        record.expires_at = _expiry(settings, created_at=record.created_at, now=now)
        session.commit()
    return record


def end(*, session: Session, token: str | None) -> None:
    """End the session of this cookie token, if any, and commit."""
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))
        session.commit()


def end_all(*, session: Session, user: StaffUser) -> None:
    """End every session of `user` (in the caller's transaction)."""
    session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))


def csrf_matches(record: StaffSession, given: str | None) -> bool:
    """Return True when `given` is this session's CSRF token (compared in constant time)."""
    return bool(given) and hmac.compare_digest(record.csrf_token.encode(), (given or "").encode())
