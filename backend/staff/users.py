"""Staff accounts: create them, check a sign-in, change role, divisions, state and password (all audited)."""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.catalog.schemas import Catalog
from backend.database.types import utcnow
from backend.staff import passwords, sessions, throttle
from backend.staff.models import StaffUser
from backend.staff.permissions import Permission, Role, allows, is_division_scoped

logger = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,185}\.[^@\s]{2,63}$")


class UserError(ValueError):
    """The account details are not acceptable; the message says why, in plain words."""


class TooManySignIns(Exception):
    """The client address failed to sign in too often lately and must wait until `until`."""

    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__(until)
        self.until = until
        self.seconds = max(1, math.ceil((until - now).total_seconds()))

    @property
    def message(self) -> str:
        """Say, in plain words, how long to wait."""
        minutes = math.ceil(self.seconds / 60)
        return (
            f"Too many sign-in attempts from your network. Please wait {minutes} minute{'s' if minutes > 1 else ''}, "
            "then try again."
        )


def normalize_email(email: str) -> str:
    """Return the email as stored: trimmed and lower-case."""
    return email.strip().casefold()


def get(*, session: Session, user_id: int) -> StaffUser | None:
    """Return the account with this id, or None."""
    return session.get(StaffUser, user_id)


def get_by_email(*, session: Session, email: str) -> StaffUser | None:
    """Return the account with this email (any case), or None."""
    return session.scalar(select(StaffUser).where(StaffUser.email == normalize_email(email)))


def get_all(*, session: Session) -> list[StaffUser]:
    """Return every account, by name."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.display_name, StaffUser.id)))


def handlers(*, session: Session, division: str | None) -> list[StaffUser]:
    """Return the active accounts that may handle a case of `division`, by name."""
    return [
        user
        for user in get_all(session=session)
        if user.is_active
        and allows(user.role, Permission.HANDLE_CASES)
        and (not is_division_scoped(user.role) or (division is not None and division in user.divisions))
    ]


def _clean_divisions(role: Role, divisions: list[str], catalog: Catalog) -> list[str]:
    codes = []
    for value in divisions:
        found = catalog.find_division(value)
        if found is None:
            raise UserError(f"Unknown division {value!r}.")
        if found.code not in codes:
            codes.append(found.code)
    if is_division_scoped(role) and not codes:
        raise UserError("Choose at least one division for a division reviewer.")
    return codes if is_division_scoped(role) else []


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 120:
        raise UserError("Give a name of 1 to 120 characters.")
    return name


def create(
    *,
    session: Session,
    catalog: Catalog,
    email: str,
    display_name: str,
    role: Role,
    password: str,
    divisions: list[str] | None = None,
    actor: StaffUser | None = None,
    actor_label: str | None = None,
) -> StaffUser:
    """Create an account and commit.

    Raises:
        UserError: the email is malformed or taken, the password too weak, or a reviewer has no division.
    """
    address = normalize_email(email)
    if not _EMAIL.match(address):
        raise UserError("Give a valid email address, like name@toronto.ca.")
    if (problem := passwords.weakness(password, email=address)) is not None:
        raise UserError(problem)
    user = StaffUser(
        email=address,
        display_name=_clean_name(display_name),
        role=role,
        divisions=_clean_divisions(role, divisions or [], catalog),
        password_hash=passwords.hash_password(password),
        is_active=True,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise UserError(f"There is already an account for {address}.") from None
    audit.record(
        session=session,
        actor=actor,
        actor_label=actor_label,
        action="create_user",
        subject=address,
        after={"display_name": user.display_name, "role": role, "divisions": user.divisions},
    )
    session.commit()
    logger.info("Created staff account %s with role %s", user.id, role.value)
    return user


def authenticate(*, session: Session, email: str, password: str, address: str) -> StaffUser | None:
    """Return the active account whose password this is, or None; failures are counted and audited.

    Slow work: it checks an Argon2id hash. Run it off the event loop (`passwords.off_the_loop`).

    Raises:
        TooManySignIns: `address` failed too often lately, for this email or any (backend.staff.throttle), so the
            password is not checked; or this failure was one too many.
    """
    now = utcnow()
    normalized = normalize_email(email)[:254]
    blocked = throttle.wait(session=session, address=address, email=normalized, now=now)
    if blocked is not None:
        raise TooManySignIns(blocked, now)
    user = get_by_email(session=session, email=email)
    # End the read before the slow check: other sign-ins write meanwhile, and on SQLite a transaction that read
    # before someone else's write may not write after it.
    session.commit()
    if user is None or not user.is_active:
        passwords.burn_time(password)
        _failed(session, address, normalized, now, "no such account" if user is None else "account switched off")
        return None
    if not passwords.verify(user.password_hash, password):
        _failed(session, address, normalized, now, "wrong password")
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_sign_in_at = now
    throttle.clear(session=session, address=address, email=normalized)
    audit.record(session=session, actor=user, action="sign_in")
    session.commit()
    return user


def _failed(session: Session, address: str, email: str, now: datetime, why: str) -> None:
    """Count and audit a failed sign-in; raise `TooManySignIns` when this one made the address wait."""
    until = throttle.record_failure(session=session, address=address, email=email, now=now)
    summary = f"{why}; this address must wait {throttle.WAIT.seconds // 60} minutes" if until else why
    audit.record(session=session, actor=None, action="sign_in_failed", subject=email, summary=summary)
    session.commit()
    if until is not None:
        raise TooManySignIns(until, now)


def update(
    *,
    session: Session,
    catalog: Catalog,
    user: StaffUser,
    actor: StaffUser,
    display_name: str,
    role: Role,
    divisions: list[str],
    is_active: bool,
) -> None:
    """Change an account's name, role, divisions and whether it may sign in; commit.

    Raises:
        UserError: the change is not acceptable (for instance, an admin switching off or demoting themselves).
    """
    if user.id == actor.id and (role is not Role.ADMIN or not is_active):
        raise UserError("You cannot remove your own admin role or switch off your own account.")
    values = {
        "display_name": _clean_name(display_name),
        "role": role,
        "divisions": _clean_divisions(role, divisions, catalog),
        "is_active": is_active,
    }
    before = {name: getattr(user, name) for name, value in values.items() if getattr(user, name) != value}
    if not before:
        raise UserError("Nothing changed.")
    for name in before:
        setattr(user, name, values[name])
    audit.record(
        session=session,
        actor=actor,
        action="update_user",
        subject=user.email,
        before=before,
        after={name: values[name] for name in before},
    )
    session.commit()


def set_password(*, session: Session, user: StaffUser, actor: StaffUser, password: str) -> None:
    """Give the account a new password, sign it out everywhere, and commit.

    Raises:
        UserError: the password is too weak.
    """
    if (problem := passwords.weakness(password, email=user.email)) is not None:
        raise UserError(problem)
    user.password_hash = passwords.hash_password(password)
    # Whoever was made to wait for this account may try the new password at once.
    throttle.forget_account(session=session, email=user.email)
    sessions.end_all(session=session, user=user)
    audit.record(
        session=session,
        actor=actor,
        action="set_password",
        subject=user.email,
        summary="own password" if actor.id == user.id else "password reset by an admin",
    )
    session.commit()
