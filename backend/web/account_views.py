"""Staff pages for signing in and out, changing one's password, and managing accounts."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from backend.audit import service as audit
from backend.catalog.schemas import Catalog
from backend.catalog.views import get_catalog
from backend.clients import client_address
from backend.database.core import get_session
from backend.staff import passwords, sessions, users
from backend.staff.models import StaffUser
from backend.staff.permissions import Permission, Role
from backend.web.core import (
    CSRF_FIELD,
    PREFIX,
    Staff,
    checked_form,
    current_staff,
    not_found,
    require,
    settings_of,
)
from backend.web.templating import render

logger = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

SIGN_IN_CSRF_COOKIE = "intake_sign_in_csrf"
DONE_MESSAGES = {
    "signed_out": "You are signed out.",
    "password": "Your password is changed. Other sessions were signed out.",
    "user_created": "The account is created.",
    "user_updated": "The account is updated.",
    "password_reset": "The password is reset and the account was signed out everywhere.",
}
SessionDep = Annotated[Session, Depends(get_session)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _safe_next(target: str | None) -> str:
    """Return `target` when it is a staff page on this site, else the case list (no open redirects)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/cases"


def _secure(request: Request) -> bool:
    configured = settings_of(request).staff_cookie_secure
    return configured if configured is not None else request.url.scheme == "https"


@router.get("")
def home() -> RedirectResponse:
    """Send staff to the case list."""
    return RedirectResponse(PREFIX + "/cases", status_code=303)


def _sign_in_page(
    request: Request,
    *,
    next_: str,
    error: str | None,
    email: str = "",
    status_code: int = 200,
    retry_after: int | None = None,
) -> Response:
    token = secrets.token_urlsafe(32)
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    response = render(
        request,
        "staff/sign_in.html",
        {"csrf_token": token, "next": next_, "error": error, "email": email, "done": done},
        status_code=status_code,
    )
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE,
        token,
        max_age=3600,
        path=PREFIX + "/sign-in",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 (the query's name)
    """Show the sign-in form."""
    return _sign_in_page(request, next_=_safe_next(next), error=None)


@router.post("/sign-in")
async def sign_in(request: Request, session: SessionDep) -> Response:
    """Check the email and password, start a session, and go where the staff member was heading."""
    form = await request.form()
    next_ = _safe_next(_field(form, "next"))
    cookie = request.cookies.get(SIGN_IN_CSRF_COOKIE, "")
    given = _field(form, CSRF_FIELD)
    if not cookie or not given or not hmac.compare_digest(cookie.encode(), given.encode()):
        return _sign_in_page(
            request,
            next_=next_,
            status_code=403,
            error="The sign-in form was out of date. Please try again.",
        )
    email = _field(form, "email")[:254]
    check = partial(
        users.authenticate,
        session=session,
        email=email,
        password=_field(form, "password")[:1024],
        address=client_address(request, settings_of(request).trusted_proxies),
    )
    try:
        user = await passwords.off_the_loop(check)
    except users.TooManySignIns as exc:
        return _sign_in_page(
            request, next_=next_, email=email, status_code=429, error=exc.message, retry_after=exc.seconds
        )
    except passwords.Busy:
        return _sign_in_page(
            request,
            next_=next_,
            email=email,
            status_code=503,
            retry_after=60,
            error="Many people are signing in right now. Please try again in a minute.",
        )
    if user is None:
        return _sign_in_page(
            request,
            next_=next_,
            email=email,
            status_code=401,
            error="The email or password is not right. Check them and try again.",
        )
    started = await run_in_threadpool(sessions.start, session=session, settings=settings_of(request), user=user)
    response = RedirectResponse(next_, status_code=303)
    response.set_cookie(
        sessions.COOKIE_NAME, started.token, path=PREFIX, httponly=True, samesite="lax", secure=_secure(request)
    )
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path=PREFIX + "/sign-in")
    return response


@router.post("/sign-out")
def sign_out(
    request: Request,
    session: SessionDep,
    staff: Annotated[Staff, Depends(current_staff)],
    form: Annotated[FormData, Depends(checked_form)],
) -> Response:
    """End the session."""
    audit.record(session=session, actor=staff.user, action="sign_out")
    sessions.end(session=session, token=request.cookies.get(sessions.COOKIE_NAME))
    response = RedirectResponse(PREFIX + "/sign-in?done=signed_out", status_code=303)
    response.delete_cookie(sessions.COOKIE_NAME, path=PREFIX)
    return response


@router.get("/password")
def password_form(request: Request, staff: Annotated[Staff, Depends(current_staff)]) -> Response:
    """Show the form to change one's own password."""
    return render(request, "staff/password.html", {"staff": staff, "error": None})


@router.post("/password")
def change_password(
    request: Request,
    session: SessionDep,
    staff: Annotated[Staff, Depends(current_staff)],
    form: Annotated[FormData, Depends(checked_form)],
) -> Response:
    """Change one's own password after checking the current one."""
    user = session.merge(staff.user)
    error = None
    if not passwords.verify(user.password_hash, _field(form, "current_password")):
        error = "The current password is not right."
    elif _field(form, "new_password") != _field(form, "confirm_password"):
        error = "The two new passwords are not the same."
    else:
        try:
            users.set_password(session=session, user=user, actor=user, password=_field(form, "new_password"))
        except users.UserError as exc:
            error = str(exc)
    if error:
        return render(request, "staff/password.html", {"staff": staff, "error": error}, status_code=422)
    started = sessions.start(session=session, settings=settings_of(request), user=user)
    response = RedirectResponse(PREFIX + "/cases?done=password", status_code=303)
    response.set_cookie(
        sessions.COOKIE_NAME, started.token, path=PREFIX, httponly=True, samesite="lax", secure=_secure(request)
    )
    return response


# --- Accounts (admin) -----------------------------------------------------------------------------------------------

ManageUsers = Annotated[Staff, Depends(require(Permission.MANAGE_USERS))]


def _users_page(
    request: Request,
    session: Session,
    staff: Staff,
    *,
    error: str | None = None,
    values: Mapping[str, object] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "staff/users.html",
        {
            "staff": staff,
            "accounts": users.get_all(session=session),
            "roles": list(Role),
            "error": error,
            "values": values or {},
            "done": DONE_MESSAGES.get(request.query_params.get("done", "")),
        },
        status_code=status_code,
    )


@router.get("/users")
def list_users(request: Request, session: SessionDep, staff: ManageUsers) -> Response:
    """List the staff accounts, with a form for a new one."""
    return _users_page(request, session, staff)


def _role(value: str) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None


@router.post("/users")
def create_user(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    staff: ManageUsers,
    form: Annotated[FormData, Depends(checked_form)],
) -> Response:
    """Create a staff account."""
    role = _role(_field(form, "role"))
    divisions = [value for value in form.getlist("divisions") if isinstance(value, str)]
    values = {
        "email": _field(form, "email"),
        "display_name": _field(form, "display_name"),
        "role": _field(form, "role"),
        "divisions": divisions,
    }
    if role is None:
        return _users_page(request, session, staff, error="Choose a role.", values=values, status_code=422)
    try:
        users.create(
            session=session,
            catalog=catalog,
            email=_field(form, "email"),
            display_name=_field(form, "display_name"),
            role=role,
            password=_field(form, "password"),
            divisions=divisions,
            actor=session.merge(staff.user),
        )
    except users.UserError as exc:
        session.rollback()
        return _users_page(request, session, staff, error=str(exc), values=values, status_code=422)
    return RedirectResponse(PREFIX + "/users?done=user_created", status_code=303)


@router.get("/users/{user_id}")
def edit_user_form(request: Request, session: SessionDep, staff: ManageUsers, user_id: int) -> Response:
    """Show one account with forms to change it and to reset its password."""
    account = _account(session, user_id)
    return render(request, "staff/user.html", {"staff": staff, "account": account, "roles": list(Role), "error": None})


@router.post("/users/{user_id}")
def update_user(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    staff: ManageUsers,
    user_id: int,
    form: Annotated[FormData, Depends(checked_form)],
) -> Response:
    """Change an account's name, role, divisions and whether it is active."""
    account = _account(session, user_id)
    role = _role(_field(form, "role"))
    error = None
    if role is None:
        error = "Choose a role."
    else:
        try:
            users.update(
                session=session,
                catalog=catalog,
                user=account,
                actor=session.merge(staff.user),
                display_name=_field(form, "display_name"),
                role=role,
                divisions=[value for value in form.getlist("divisions") if isinstance(value, str)],
                is_active=_field(form, "is_active") == "yes",
            )
        except users.UserError as exc:
            session.rollback()
            error = str(exc)
    if error:
        return render(
            request,
            "staff/user.html",
            {"staff": staff, "account": account, "roles": list(Role), "error": error},
            status_code=422,
        )
    return RedirectResponse(PREFIX + "/users?done=user_updated", status_code=303)


@router.post("/users/{user_id}/password")
def reset_password(
    request: Request,
    session: SessionDep,
    staff: ManageUsers,
    user_id: int,
    form: Annotated[FormData, Depends(checked_form)],
) -> Response:
    """Give an account a new password (which the admin passes on to its owner)."""
    account = _account(session, user_id)
    try:
        users.set_password(
            session=session, user=account, actor=session.merge(staff.user), password=_field(form, "password")
        )
    except users.UserError as exc:
        session.rollback()
        return render(
            request,
            "staff/user.html",
            {"staff": staff, "account": account, "roles": list(Role), "error": str(exc)},
            status_code=422,
        )
    return RedirectResponse(PREFIX + "/users?done=password_reset", status_code=303)


def _account(session: Session, user_id: int) -> StaffUser:
    """Return the staff account with this id, or answer 404."""
    account = users.get(session=session, user_id=user_id)
    if account is None:
        raise not_found("There is no such account.")
    return account
