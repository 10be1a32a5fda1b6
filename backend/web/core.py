"""What every staff page needs: who is signed in, what they may do, CSRF-checked forms, and error pages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import references
from backend.cases import service as cases
from backend.cases.models import Case
from backend.config import Settings
from backend.database.core import get_session
from backend.staff import sessions
from backend.staff.models import StaffSession, StaffUser
from backend.staff.permissions import Permission, allows, can_see_division, is_division_scoped
from backend.web.templating import render

logger = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
PREFIX = "/staff"


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member of a request."""

    user: StaffUser
    record: StaffSession

    @property
    def csrf_token(self) -> str:
        """Return the token every form of this session must carry."""
        return self.record.csrf_token

    def can(self, permission: Permission | str) -> bool:
        """Return True when the staff member's role grants `permission`."""
        return allows(self.user.role, Permission(permission))

    def sees(self, division: str | None) -> bool:
        """Return True when the staff member may see a case of `division`."""
        return can_see_division(self.user.role, self.user.divisions, division)

    @property
    def divisions(self) -> tuple[str, ...] | None:
        """Return the divisions the staff member is limited to, or None when they see every division."""
        return tuple(self.user.divisions) if is_division_scoped(self.user.role) else None


class SignInNeeded(Exception):
    """The request needs a signed-in staff member."""


class PageError(Exception):
    """Answer with an error page: `status`, a title, and what to do about it."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.message = message


def forbidden(message: str = "Your role does not let you do this.") -> PageError:
    """Return the 403 page error."""
    return PageError(403, "Not allowed", message)


def not_found(message: str) -> PageError:
    """Return the 404 page error."""
    return PageError(404, "Not found", message)


def settings_of(request: Request) -> Settings:
    """Return the app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def secure_cookies(request: Request) -> bool:
    """Return whether staff cookies are marked Secure: as configured, else when the request came over HTTPS."""
    configured = settings_of(request).staff_cookie_secure
    return configured if configured is not None else request.url.scheme == "https"


def current_staff(request: Request, session: Annotated[Session, Depends(get_session)]) -> Staff:
    """Return the signed-in staff member, or raise `SignInNeeded`."""
    record = sessions.find(
        session=session, settings=settings_of(request), token=request.cookies.get(sessions.COOKIE_NAME)
    )
    if record is None:
        raise SignInNeeded()
    staff = Staff(user=record.user, record=record)
    request.state.staff = staff
    return staff


def require(permission: Permission) -> Callable[..., Staff]:
    """Return a dependency that admits a signed-in staff member whose role grants `permission`."""

    def check(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        if not staff.can(permission):
            raise forbidden()
        return staff

    return check


async def checked_form(request: Request, staff: Annotated[Staff, Depends(current_staff)]) -> FormData:
    """Return the posted form after checking its CSRF token against the session's (403 when it does not match)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not sessions.csrf_matches(staff.record, token if isinstance(token, str) else None):
        logger.warning("Refused a staff form without a valid CSRF token: %s", request.url.path)
        raise PageError(
            403,
            "This form could not be accepted",
            "The form was out of date or did not come from this site, so nothing was changed. "
            "Go back, reload the page, and try again.",
        )
    return form


def load_case(session: Session, staff: Staff, reference: str) -> Case:
    """Return the case with this reference if the staff member may see it; raise 404 or 403 page errors."""
    canonical = references.normalize(reference)
    if canonical is None or not references.is_valid(canonical):
        raise not_found("That is not a valid reference number. Check it and try again.")
    case = cases.get_by_reference(session=session, reference=canonical)
    if case is None:
        raise not_found(f"No case has the reference {canonical}.")
    if not staff.sees(case.division):
        raise forbidden("This case belongs to a division you do not review.")
    return case


def sign_in_redirect(request: Request, exc: Exception) -> Response:
    """Send someone who is not signed in to the sign-in page, remembering where they were going."""
    target = request.url.path if request.method == "GET" else PREFIX + "/cases"
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"{PREFIX}/sign-in?next={quote(target, safe='')}", status_code=303)


def error_page(request: Request, exc: Exception) -> Response:
    """Render a page error."""
    assert isinstance(exc, PageError)
    staff = getattr(request.state, "staff", None)
    context = {"title": exc.title, "message": exc.message, "staff": staff}
    return render(request, "staff/error.html", context, status_code=exc.status)


# Staff pages show personal data: never cached, never framed, no script or style from anywhere but here.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        b"base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class StaffHeadersMiddleware:
    """Add `SECURITY_HEADERS` to every response under /staff."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in SECURITY_HEADERS}
                kept = [(name, value) for name, value in message.get("headers", []) if name.lower() not in names]
                message = {**message, "headers": kept + SECURITY_HEADERS}
            await send(message)

        await self.app(scope, receive, send_with_headers)
