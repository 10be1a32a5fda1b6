"""Slow down password guessing: count failed sign-ins per client address, and per address and email, and make an
address wait once it has failed too often.

Only the address that failed waits. Locking the account itself, as before, let anyone who knew a staff email keep
that person out; now the person signing in from their own address is never held up by someone else's guesses.
The counts live in the database, so every worker sees them, and each failure is counted by one statement
(``failures = failures + 1``, an upsert), never read and written back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.database.types import UTCDateTime
from backend.staff.models import SignInFailure

logger = logging.getLogger(__name__)

# Wrong passwords from one address for one email, then from one address for any emails (someone trying a list of
# accounts), within WINDOW; after either, the address waits WAIT before it may try again.
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 30
WINDOW = timedelta(minutes=15)
WAIT = timedelta(minutes=15)
ANY_EMAIL = ""
MAX_ADDRESS = 64
MAX_EMAIL = 254


def wait(*, session: Session, address: str, email: str, now: datetime) -> datetime | None:
    """Return until when `address` may not try `email` (or any email), or None when it may try now."""
    blocked = session.scalars(
        select(SignInFailure.blocked_until).where(
            SignInFailure.address == address[:MAX_ADDRESS],
            SignInFailure.email.in_((ANY_EMAIL, email[:MAX_EMAIL])),
            SignInFailure.blocked_until > now,
        )
    )
    return max((until for until in blocked if until is not None), default=None)


def record_failure(*, session: Session, address: str, email: str, now: datetime) -> datetime | None:
    """Count one failed sign-in of `address` for `email`; return until when the address must now wait, or None.

    Counts older than WINDOW are forgotten on the way. The caller commits, with its audit entry.
    """
    address, email = address[:MAX_ADDRESS], email[:MAX_EMAIL]
    until = [
        until
        for key, limit in ((email, MAX_FAILURES_PER_ACCOUNT), (ANY_EMAIL, MAX_FAILURES_PER_ADDRESS))
        if (until := _count(session, address, key, limit, now)) is not None
    ]
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.window_started_at <= now - WINDOW,
            or_(SignInFailure.blocked_until.is_(None), SignInFailure.blocked_until <= now),
        )
    )
    if until:
        logger.warning("A client address must wait %s after repeated failed sign-ins", WAIT)
    return max(until, default=None)


def clear(*, session: Session, address: str, email: str) -> None:
    """Forget the failures of `address` for `email` after it signed in (its failures for any email stay)."""
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.address == address[:MAX_ADDRESS], SignInFailure.email == email[:MAX_EMAIL]
        )
    )


def forget_account(*, session: Session, email: str) -> None:
    """Forget every address's failures for `email` (its password was just changed)."""
    session.execute(delete(SignInFailure).where(SignInFailure.email == email[:MAX_EMAIL]))


def _count(session: Session, address: str, email: str, limit: int, now: datetime) -> datetime | None:
    """Add one failure to the row of (`address`, `email`) in one statement; block it when it reaches `limit`."""
    table = SignInFailure.__table__
    moment = literal(now, UTCDateTime())
    stale = table.c.window_started_at <= literal(now - WINDOW, UTCDateTime())
    failures = session.execute(
        _insert(session)
        .values(address=address, email=email, failures=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.address, table.c.email],
            set_={
                "failures": case((stale, 1), else_=table.c.failures + 1),
                "window_started_at": case((stale, moment), else_=table.c.window_started_at),
            },
        )
        .returning(table.c.failures)
    ).scalar_one()
    if failures < limit:
        return None
    until = now + WAIT
    # The upsert holds the row's lock until the caller commits, so nobody counts in between.
    session.execute(
        update(SignInFailure)
        .where(SignInFailure.address == address, SignInFailure.email == email)
        .values(failures=0, window_started_at=now, blocked_until=until)
    )
    return until


def _insert(session: Session) -> Any:
    """Return the INSERT construct of the session's database, which knows ON CONFLICT DO UPDATE."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert(SignInFailure) if dialect == "postgresql" else sqlite.insert(SignInFailure)
