"""Sign-in under attack: password checks run off the event loop, failures make only the failing address wait,
each failure is counted by one statement, and staff are told how long to wait."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from backend_testing import STAFF, both_databases
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select, text, update
from sqlalchemy.orm import Session
from staff_testing import (  # noqa: F401  (the underscored names are autouse fixtures)
    PASSWORD,
    _empty_staff_tables,
    _quick_password_hashing,
    csrf_of,
    make_user,
    post_form,
    sign_in,
    signed_in,
)

from backend.audit.models import AuditEntry
from backend.database import migrate
from backend.database.core import create_db_engine
from backend.database.types import utcnow
from backend.staff import passwords, throttle
from backend.staff.models import SignInFailure
from backend.staff.permissions import Role
from backend.staff.sessions import COOKIE_NAME

ATTACKER = ("203.0.113.66", 4000)
VICTIM = ("198.51.100.7", 4000)
WRONG = "not the password at all"


def try_sign_in(client: TestClient, email: str, password: str = WRONG) -> Any:
    """Post the sign-in form once, as a browser does, and return the response."""
    form = client.get("/staff/sign-in")
    return client.post(
        "/staff/sign-in",
        follow_redirects=False,
        data={"email": email, "password": password, "csrf_token": csrf_of(form.text)},
    )


def failures(engine: Engine) -> dict[tuple[str, str], int]:
    """Return the failure counts by (address, email)."""
    with Session(engine) as session:
        return {(row.address, row.email): row.failures for row in session.scalars(select(SignInFailure))}


# A flood does not hold up the rest of the backend.


@pytest.fixture
def held_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Semaphore]]:
    """Make every password check wait for a gate (opened by the test, or after 5 s whatever happens)."""
    gate, started = threading.Event(), threading.Semaphore(0)
    check = passwords.verify

    def held(password_hash: str, password: str) -> bool:
        started.release()
        gate.wait()
        return check(password_hash, password)

    monkeypatch.setattr(passwords, "verify", held)
    opener = threading.Timer(5, gate.set)  # if the event loop is blocked, nothing else would ever open it
    opener.start()
    yield gate, started
    gate.set()
    opener.cancel()


def test_a_flood_of_sign_ins_does_not_hold_up_other_requests(
    app: FastAPI, held_checks: tuple[threading.Event, threading.Semaphore], monkeypatch: pytest.MonkeyPatch
) -> None:
    gate, started = held_checks
    monkeypatch.setattr(passwords, "MAX_WAITING_CHECKS", 6)

    async def scenario() -> tuple[int, bool, list[httpx.Response]]:
        # One event loop serves every request, as in a uvicorn worker.
        transport = httpx.ASGITransport(app=app, client=ATTACKER)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            token = csrf_of((await client.get("/staff/sign-in")).text)
            flood = [
                asyncio.create_task(
                    client.post(
                        "/staff/sign-in",
                        data={"email": f"nobody{number}@city.example", "password": WRONG, "csrf_token": token},
                    )
                )
                for number in range(8)
            ]
            while not started.acquire(blocking=False):  # a check is running (on the loop, this never returns)
                await asyncio.sleep(0.01)
            other = await client.get("/api/cases", headers=STAFF)
            answered_while_checking = not gate.is_set()
            gate.set()
            return other.status_code, answered_while_checking, list(await asyncio.gather(*flood))

    status, answered_while_checking, flood = asyncio.run(scenario())
    assert status == 200
    assert answered_while_checking, "/api/cases waited for the password checks"
    # The checks beyond the queue's limit are turned away at once, politely.
    assert sorted(response.status_code for response in flood) == [401] * 6 + [503] * 2
    busy = next(response for response in flood if response.status_code == 503)
    assert "Please try again in a minute." in busy.text and busy.headers["retry-after"] == "60"


# Only the address that fails waits.


@both_databases
def test_the_owner_signs_in_from_their_address_while_the_attacker_waits(app: FastAPI, engine: Engine) -> None:
    make_user(app, Role.AGENT)
    attacker = TestClient(app, client=ATTACKER)
    answers = [
        try_sign_in(attacker, "agent@city.example").status_code for _ in range(throttle.MAX_FAILURES_PER_ACCOUNT)
    ]
    assert answers == [401] * (throttle.MAX_FAILURES_PER_ACCOUNT - 1) + [429]
    # Even the right password is not checked while the attacker's address waits.
    refused = try_sign_in(attacker, "agent@city.example", PASSWORD)
    assert refused.status_code == 429 and COOKIE_NAME not in attacker.cookies
    assert "Too many sign-in attempts from your network. Please wait 15 minutes, then try again." in refused.text
    assert 14 * 60 < int(refused.headers["retry-after"]) <= 15 * 60
    # The account's owner, elsewhere, is not held up.
    owner = sign_in(TestClient(app, client=VICTIM), "agent@city.example")
    assert owner.get("/staff/cases").status_code == 200
    with Session(engine) as session:
        summaries = list(session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "sign_in_failed")))
    assert summaries[-1] == "wrong password; this address must wait 15 minutes"


def test_an_address_trying_many_accounts_waits_for_all_of_them(app: FastAPI) -> None:
    make_user(app, Role.AGENT)
    attacker = TestClient(app, client=ATTACKER)
    answers = [
        try_sign_in(attacker, f"staff{number}@city.example").status_code
        for number in range(throttle.MAX_FAILURES_PER_ADDRESS)
    ]
    assert answers == [401] * (throttle.MAX_FAILURES_PER_ADDRESS - 1) + [429]
    assert try_sign_in(attacker, "agent@city.example", PASSWORD).status_code == 429
    sign_in(TestClient(app, client=VICTIM), "agent@city.example")


def test_the_message_says_how_many_minutes_are_left(app: FastAPI, engine: Engine) -> None:
    make_user(app, Role.AGENT)
    attacker = TestClient(app, client=ATTACKER)
    for _ in range(throttle.MAX_FAILURES_PER_ACCOUNT):
        try_sign_in(attacker, "agent@city.example")
    for left, said in (
        (timedelta(seconds=61), "Please wait 2 minutes,"),
        (timedelta(seconds=20), "Please wait 1 minute,"),
    ):
        with Session(engine) as session:
            session.execute(
                update(SignInFailure)
                .where(SignInFailure.blocked_until.is_not(None))
                .values(blocked_until=utcnow() + left)
            )
            session.commit()
        assert said in try_sign_in(attacker, "agent@city.example", PASSWORD).text
    with Session(engine) as session:
        session.execute(update(SignInFailure).values(blocked_until=utcnow() - timedelta(seconds=1)))
        session.commit()
    sign_in(attacker, "agent@city.example")  # the wait is over


def test_failures_older_than_the_window_are_forgotten(app: FastAPI, engine: Engine) -> None:
    make_user(app, Role.AGENT)
    attacker = TestClient(app, client=ATTACKER)
    for _ in range(throttle.MAX_FAILURES_PER_ACCOUNT - 1):
        try_sign_in(attacker, "agent@city.example")
    with Session(engine) as session:
        session.execute(update(SignInFailure).values(window_started_at=utcnow() - throttle.WINDOW))
        session.commit()
    assert try_sign_in(attacker, "agent@city.example").status_code == 401  # counted afresh: 1
    assert failures(engine) == {(ATTACKER[0], "agent@city.example"): 1, (ATTACKER[0], ""): 1}


def test_signing_in_clears_the_accounts_count_and_a_new_password_everyones(app: FastAPI, engine: Engine) -> None:
    admin, _ = signed_in(app, Role.ADMIN, email="admin@city.example")
    agent = make_user(app, Role.AGENT)
    owner = TestClient(app, client=VICTIM)
    for _ in range(throttle.MAX_FAILURES_PER_ACCOUNT - 1):
        try_sign_in(owner, "agent@city.example")
    sign_in(owner, "agent@city.example")
    assert failures(engine) == {(VICTIM[0], ""): throttle.MAX_FAILURES_PER_ACCOUNT - 1}
    attacker = TestClient(app, client=ATTACKER)
    for _ in range(throttle.MAX_FAILURES_PER_ACCOUNT):
        try_sign_in(attacker, "agent@city.example")
    new_password = "a brand new passphrase, 2026"
    assert (
        post_form(
            admin, f"/staff/users/{agent.id}/password", {"password": new_password}, page=f"/staff/users/{agent.id}"
        ).status_code
        == 303
    )
    assert (ATTACKER[0], "agent@city.example") not in failures(engine)
    sign_in(attacker, "agent@city.example", new_password)


# Each failure is counted by the database, in one statement.


def test_a_failure_is_counted_in_one_statement_not_read_and_written_back(app: FastAPI, engine: Engine) -> None:
    make_user(app, Role.AGENT)
    client = TestClient(app, client=ATTACKER)
    form = client.get("/staff/sign-in")
    statements: list[str] = []

    def seen(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        client.post(
            "/staff/sign-in", data={"email": "agent@city.example", "password": WRONG, "csrf_token": csrf_of(form.text)}
        )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    counting = [
        statement
        for statement in statements
        if re.match(r"\s*(UPDATE|INSERT)\b", statement, re.I) and "fail" in statement.lower()
    ]
    assert counting, "no failure was counted"
    for statement in counting:
        assert re.search(r"\b(\w*fail\w*)\s*=.*\b\1\s*\+", statement, re.I | re.S), statement


@both_databases
def test_failures_arriving_together_are_all_counted(app: FastAPI, engine: Engine) -> None:
    count = 12  # under MAX_FAILURES_PER_ADDRESS, so the count is not reset by a wait
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def fail(number: int) -> None:
        try:
            with Session(engine) as session:
                start.wait()
                throttle.record_failure(
                    session=session, address=ATTACKER[0], email=f"staff{number}@city.example", now=utcnow()
                )
                session.commit()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=fail, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert failures(engine)[(ATTACKER[0], "")] == count


# The upgrade.


def test_the_upgrade_keeps_sessions_and_the_audit_logs_authors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    migrate.upgrade(url, "0004")
    engine = create_db_engine(url)
    moment: datetime = utcnow()
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO staff_users (id, email, display_name, role, divisions, password_hash, is_active, "
                    "failed_sign_ins, locked_until, created_at) VALUES (1, 'agent@city.example', 'Ann', 'agent', '[]', "
                    "'hash', 1, 3, :moment, :moment)"
                ),
                {"moment": moment},
            )
            connection.execute(
                text(
                    "INSERT INTO staff_sessions"
                    " (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) "
                    "VALUES ('token', 1, 'csrf', :moment, :moment, :moment)"
                ),
                {"moment": moment},
            )
            connection.execute(
                text(
                    "INSERT INTO audit_log (created_at, actor_id, actor, action, before, after) "
                    "VALUES (:moment, 1, 'agent@city.example', 'sign_in', '{}', '{}')"
                ),
                {"moment": moment},
            )
        migrate.upgrade(url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT user_id FROM staff_sessions")).scalar_one() == 1
            assert connection.execute(text("SELECT actor_id FROM audit_log")).scalar_one() == 1
            columns = {row[1] for row in connection.execute(text("PRAGMA table_info(staff_users)"))}
        assert "failed_sign_ins" not in columns and "locked_until" not in columns
    finally:
        engine.dispose()
