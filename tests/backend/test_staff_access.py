"""Staff access: hashed passwords, sessions that expire, CSRF on every form, roles, create-admin, the audit log."""

from __future__ import annotations

import io
import sys
from datetime import timedelta

import pytest
from backend_testing import STAFF, both_databases
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from staff_testing import (  # noqa: F401  (the underscored names are autouse fixtures)
    PASSWORD,
    _empty_staff_tables,
    _quick_password_hashing,
    csrf_of,
    make_user,
    new_case,
    post_form,
    sign_in,
    signed_in,
)

from backend import manage
from backend.audit.models import AuditEntry
from backend.database.types import utcnow
from backend.staff.models import StaffSession, StaffUser
from backend.staff.permissions import Role
from backend.staff.sessions import COOKIE_NAME


def audit_entries(engine: Engine, action: str | None = None) -> list[AuditEntry]:
    with Session(engine) as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(session.scalars(query))


@both_databases
def test_passwords_are_stored_as_argon2id_hashes(app: FastAPI, engine: Engine) -> None:
    make_user(app, Role.AGENT, email="Agent@City.Example")
    with Session(engine) as session:
        user = session.scalars(select(StaffUser)).one()
    assert user.email == "agent@city.example"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_staff_pages_send_strangers_to_sign_in(client: TestClient) -> None:
    for path in ("/staff/cases", "/staff/cases/C-2222222", "/staff/analytics", "/staff/audit", "/staff/users"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/staff/sign-in?next=")


def test_sign_in_takes_you_where_you_were_going(app: FastAPI, client: TestClient) -> None:
    make_user(app, Role.AGENT)
    form = client.get("/staff/sign-in?next=/staff/analytics")
    assert 'value="/staff/analytics"' in form.text
    response = client.post(
        "/staff/sign-in",
        follow_redirects=False,
        data={
            "email": "agent@city.example",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "/staff/analytics",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/analytics"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/staff" in cookie


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/api/cases", "/staff\\..\\x"])
def test_sign_in_never_redirects_off_the_staff_pages(app: FastAPI, client: TestClient, target: str) -> None:
    make_user(app, Role.AGENT)
    form = client.get("/staff/sign-in")
    response = client.post(
        "/staff/sign-in",
        follow_redirects=False,
        data={
            "email": "agent@city.example",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": target,
        },
    )
    assert response.headers["location"] == "/staff/cases"


def test_a_wrong_password_is_refused_and_audited(app: FastAPI, client: TestClient, engine: Engine) -> None:
    make_user(app, Role.AGENT)
    for email in ("agent@city.example", "nobody@city.example"):
        form = client.get("/staff/sign-in")
        response = client.post(
            "/staff/sign-in",
            data={
                "email": email,
                "password": "not the password at all",
                "csrf_token": csrf_of(form.text),
            },
        )
        assert response.status_code == 401
        assert "email or password is not right" in response.text
        assert COOKIE_NAME not in client.cookies
    assert [(e.subject, e.summary) for e in audit_entries(engine, "sign_in_failed")] == [
        ("agent@city.example", "wrong password"),
        ("nobody@city.example", "no such account"),
    ]


def test_sign_in_without_its_csrf_token_is_refused(app: FastAPI, client: TestClient) -> None:
    make_user(app, Role.AGENT)
    client.get("/staff/sign-in")
    response = client.post("/staff/sign-in", data={"email": "agent@city.example", "password": PASSWORD})
    assert response.status_code == 403
    assert COOKIE_NAME not in client.cookies


@both_databases
def test_an_idle_session_expires(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.AGENT)
    assert client.get("/staff/cases").status_code == 200
    with Session(engine) as session:
        session.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    response = client.get("/staff/cases", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/sign-in")
    with Session(engine) as session:
        assert session.scalars(select(StaffSession)).all() == []


def test_activity_slides_the_idle_deadline_but_never_past_the_maximum(make_app: object, engine: Engine) -> None:
    app = make_app(staff_session_idle_minutes=30, staff_session_max_hours=1)  # type: ignore[operator]
    client, _ = signed_in(app, Role.AGENT)
    with Session(engine) as session:
        record = session.scalars(select(StaffSession)).one()
        assert record.expires_at - record.created_at == timedelta(minutes=30)
        long_ago = utcnow() - timedelta(minutes=50)
        record.created_at = record.last_seen_at = long_ago
        session.commit()
    assert client.get("/staff/cases").status_code == 200
    with Session(engine) as session:
        record = session.scalars(select(StaffSession)).one()
        # Idle 30 minutes from now would pass the one-hour maximum since sign-in: the maximum wins.
        assert abs((record.expires_at - (long_ago + timedelta(hours=1))).total_seconds()) < 1


def test_sign_out_ends_the_session(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.AGENT)
    response = post_form(client, "/staff/sign-out", {}, page="/staff/cases")
    assert response.status_code == 303
    assert client.get("/staff/cases", follow_redirects=False).status_code == 303
    assert [e.action for e in audit_entries(engine)][-2:] == ["sign_in", "sign_out"]


def test_a_switched_off_account_is_signed_out(app: FastAPI, engine: Engine) -> None:
    client, user = signed_in(app, Role.AGENT)
    with Session(engine) as session:
        session.execute(update(StaffUser).where(StaffUser.id == user.id).values(is_active=False))
        session.commit()
    assert client.get("/staff/cases", follow_redirects=False).status_code == 303


def test_another_sessions_token_is_refused(app: FastAPI) -> None:
    first, _ = signed_in(app, Role.ADMIN, email="one@city.example")
    second, _ = signed_in(app, Role.ADMIN, email="two@city.example")
    reference = new_case(first)
    response = second.post(
        f"/staff/cases/{reference}/note",
        follow_redirects=False,
        data={"text": "x", "csrf_token": csrf_of(first.get("/staff/cases").text)},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "role, allowed",
    [
        (Role.AGENT, {"/staff/cases", "/staff/analytics"}),
        (Role.DIVISION_REVIEWER, {"/staff/cases", "/staff/analytics"}),
        (Role.SUPERVISOR, {"/staff/cases", "/staff/analytics", "/staff/audit"}),
        (Role.ADMIN, {"/staff/cases", "/staff/analytics", "/staff/audit", "/staff/users"}),
    ],
)
def test_each_role_reaches_its_pages_only(app: FastAPI, role: Role, allowed: set[str]) -> None:
    client, _ = signed_in(app, role, divisions=["TW"] if role is Role.DIVISION_REVIEWER else None)
    for path in ("/staff/cases", "/staff/analytics", "/staff/audit", "/staff/users"):
        assert client.get(path).status_code == (200 if path in allowed else 403), path


def test_only_supervisors_and_admins_reopen(app: FastAPI) -> None:
    agent, _ = signed_in(app, Role.AGENT)
    reference = new_case(agent, kind="service_request")
    assert post_form(agent, f"/staff/cases/{reference}/resolve", {"summary": "fixed"}).status_code == 303
    assert "Reopen the case" not in agent.get(f"/staff/cases/{reference}").text
    assert post_form(agent, f"/staff/cases/{reference}/reopen", {"reason": "x"}).status_code == 403
    supervisor, _ = signed_in(app, Role.SUPERVISOR)
    assert post_form(supervisor, f"/staff/cases/{reference}/reopen", {"reason": "not fixed"}).status_code == 303


def test_an_admin_creates_and_changes_accounts(app: FastAPI, engine: Engine) -> None:
    admin, _ = signed_in(app, Role.ADMIN)
    response = post_form(
        admin,
        "/staff/users",
        {
            "email": "Rev@City.Example",
            "display_name": "Rita Reviewer",
            "role": "division_reviewer",
            "divisions": ["TW", "UF"],
            "password": "reviewer password 123",
        },
    )
    assert response.status_code == 303
    reviewer = sign_in(TestClient(app), "rev@city.example", "reviewer password 123")
    assert reviewer.get("/staff/cases").status_code == 200
    with Session(engine) as session:
        account = session.scalars(select(StaffUser).where(StaffUser.email == "rev@city.example")).one()
    assert account.divisions == ["TW", "UF"]
    # A reviewer without divisions, a weak password, a taken email: each refused with the reason.
    for data, reason in (
        (
            {"email": "x@city.example", "role": "division_reviewer", "password": "long enough password"},
            "at least one division",
        ),
        ({"email": "y@city.example", "role": "agent", "password": "short"}, "at least 12 characters"),
        ({"email": "rev@city.example", "role": "agent", "password": "long enough password"}, "already an account"),
    ):
        response = post_form(admin, "/staff/users", {"display_name": "X", **data})
        assert response.status_code == 422 and reason in response.text
    # Switching the account off signs it out; resetting a password ends its sessions.
    response = post_form(
        admin,
        f"/staff/users/{account.id}",
        {
            "display_name": "Rita Reviewer",
            "role": "division_reviewer",
            "divisions": ["TW"],
            "is_active": "no",
        },
    )
    assert response.status_code == 303
    assert reviewer.get("/staff/cases", follow_redirects=False).status_code == 303
    changes = audit_entries(engine, "update_user")[-1]
    assert changes.before == {"divisions": ["TW", "UF"], "is_active": True}
    assert changes.after == {"divisions": ["TW"], "is_active": False}


def test_an_admin_cannot_lock_themselves_out(app: FastAPI) -> None:
    admin, user = signed_in(app, Role.ADMIN)
    response = post_form(
        admin,
        f"/staff/users/{user.id}",
        {
            "display_name": "Admin",
            "role": "agent",
            "is_active": "yes",
        },
    )
    assert response.status_code == 422
    assert "cannot remove your own admin role" in response.text


def test_changing_ones_password_needs_the_current_one_and_signs_out_elsewhere(app: FastAPI) -> None:
    client, user = signed_in(app, Role.AGENT)
    elsewhere = sign_in(TestClient(app), user.email)
    new = "a brand new long password"
    wrong = post_form(
        client, "/staff/password", {"current_password": "nope", "new_password": new, "confirm_password": new}
    )
    assert wrong.status_code == 422 and "current password is not right" in wrong.text
    done = post_form(
        client, "/staff/password", {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    )
    assert done.status_code == 303
    assert client.get("/staff/cases").status_code == 200  # this browser got a fresh session
    assert elsewhere.get("/staff/cases", follow_redirects=False).status_code == 303
    sign_in(TestClient(app), user.email, new)


def test_create_admin_reads_the_password_from_stdin_or_the_environment(
    app: FastAPI, engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INTAKE_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    monkeypatch.delenv(manage.PASSWORD_ENV, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("the first admin password\n"))
    assert manage.main(["create-admin", "--email", "Boss@City.Example", "--name", "Bo Boss"]) == 0
    monkeypatch.setenv(manage.PASSWORD_ENV, "another admin password")
    assert manage.main(["create-admin", "--email", "second@city.example", "--name", "Second"]) == 0
    assert manage.main(["create-admin", "--email", "second@city.example", "--name", "Again"]) == 1
    assert "already an account" in capsys.readouterr().err
    sign_in(TestClient(app), "boss@city.example", "the first admin password")
    sign_in(TestClient(app), "second@city.example", "another admin password")
    assert [(e.actor, e.subject) for e in audit_entries(engine, "create_user")] == [
        ("create-admin command", "boss@city.example"),
        ("create-admin command", "second@city.example"),
    ]


def test_create_admin_takes_no_password_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        manage.main(["create-admin", "--email", "a@city.example", "--name", "A", "--password", "secret secret"])
    assert "unrecognized arguments" in capsys.readouterr().err


def test_create_admin_refuses_a_weak_password(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INTAKE_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv(manage.PASSWORD_ENV, "short")
    assert manage.main(["create-admin", "--email", "a@city.example", "--name", "A"]) == 1
    assert "at least 12 characters" in capsys.readouterr().err


def test_the_bearer_token_api_is_unchanged_and_a_session_cookie_does_not_open_it(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.ADMIN)
    reference = new_case(client)
    assert client.get(f"/api/cases/{reference}", headers=STAFF).status_code == 200
    assert client.get(f"/api/cases/{reference}").status_code == 401
