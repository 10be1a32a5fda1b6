"""Helpers shared by the staff workspace tests: accounts, a signed-in browser-like client, cases, CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from argon2 import PasswordHasher
from backend_testing import ACTIONS, case_body
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session

from backend.cases.models import Case
from backend.staff import passwords, users
from backend.staff.models import StaffUser
from backend.staff.permissions import Role

PASSWORD = "a long enough test password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash with Argon2id at its lowest cost: the tests sign in hundreds of times (production keeps the defaults)."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(autouse=True)
def _empty_staff_tables(_maintenance_engine: Engine) -> Iterator[None]:
    """Remove accounts, sessions, case history and the audit log after each test."""
    yield
    with _maintenance_engine.begin() as connection:
        for table in ("audit_log", "case_updates", "staff_sessions", "sign_in_failures"):
            connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(text("UPDATE cases SET assignee_id = NULL"))
        connection.execute(text("DELETE FROM staff_users"))


def make_user(
    app: FastAPI,
    role: Role,
    *,
    email: str | None = None,
    name: str | None = None,
    divisions: list[str] | None = None,
    password: str = PASSWORD,
) -> StaffUser:
    """Create an account with `role` and return it."""
    with app.state.database.sessionmaker() as session:
        return users.create(
            session=session,
            catalog=app.state.catalog,
            email=email or f"{role.value}@city.example",
            display_name=name or role.label,
            role=role,
            password=password,
            divisions=divisions,
            actor_label="tests",
        )


def csrf_of(html: str) -> str:
    """Return the first CSRF token in a page."""
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    """Sign `client` in through the real form and return it."""
    form = client.get("/staff/sign-in")
    assert form.status_code == 200
    response = client.post(
        "/staff/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_of(form.text), "next": "/staff/cases"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def signed_in(app: FastAPI, role: Role, **account: Any) -> tuple[TestClient, StaffUser]:
    """Return a new client signed in as a new account with `role`, and the account."""
    user = make_user(app, role, **account)
    return sign_in(TestClient(app), user.email), user


def post_form(client: TestClient, path: str, data: dict[str, Any], *, page: str | None = None) -> Any:
    """Post a form the way the browser does: with the CSRF token of the page it is on (without following)."""
    html = client.get(page or path.rsplit("/", 1)[0]).text
    return client.post(path, data={**data, "csrf_token": csrf_of(html)}, follow_redirects=False)


def post_refused(client: TestClient, path: str, data: dict[str, Any], *, page: str | None = None) -> Any:
    """Post a form the server refuses: check it redirects to the case page (never staying on the POST address),
    and return that page, which says why."""
    response = post_form(client, path, data, page=page)
    assert response.status_code == 303, response.text
    case_path, action = path.rsplit("/", 1)
    assert response.headers["location"] == f"{case_path}?refused={action}#messages"
    shown = client.get(response.headers["location"])
    assert shown.status_code == 200 and 'role="alert"' in shown.text
    return shown


def new_case(client: TestClient, **changes: Any) -> str:
    """Create a case through the JSON API and return its reference."""
    response = client.post("/api/cases", json=case_body(**changes), headers=ACTIONS)
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


def set_created_at(engine: Engine, reference: str, moment: datetime, **values: Any) -> None:
    """Move a case's creation time (and any other columns) for tests about time."""
    with Session(engine) as session:
        session.execute(update(Case).where(Case.reference == reference).values(created_at=moment, **values))
        session.commit()


def load(engine: Engine, reference: str) -> Case:
    """Return the stored case."""
    with Session(engine) as session:
        case = session.query(Case).filter_by(reference=reference).one()
        session.expunge(case)
        return case
