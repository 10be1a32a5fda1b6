"""Reports the case API refused as invalid are kept on a dead-letter list that staff see, never thrown away."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from backend_testing import ACTIONS, STAFF, both_databases, case_body
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from staff_testing import (  # noqa: F401  (the underscored names are autouse fixtures)
    _empty_staff_tables,
    _quick_password_hashing,
    signed_in,
)

from backend.dead_letters.models import DeadLetter
from backend.staff.permissions import Role

TOO_BIG_OUTCOME = "\U0001f621" * 2100  # 8.4 KB of UTF-8: more than `details` may hold


@pytest.fixture(autouse=True)
def _empty_dead_letters(_maintenance_engine: Engine) -> Iterator[None]:
    yield
    with _maintenance_engine.begin() as connection:
        connection.execute(text("DELETE FROM dead_letters"))


def refused_case() -> dict:
    return case_body(
        kind="complaint", channel="sms", sender_id="sms:+14165550123", details={"outcome_wanted": TOO_BIG_OUTCOME}
    )


@both_databases
def test_a_refused_report_is_kept_once_with_its_reasons(client: TestClient, engine: Engine) -> None:
    case = refused_case()
    assert client.post("/api/cases", json=case, headers=ACTIONS).status_code == 422
    letter = {
        "idempotency_key": "k-1",
        "case": case,
        "problems": [{"loc": ["body", "details"], "msg": "must be at most 8192 bytes as JSON"}],
    }
    first = client.post("/api/dead-letters", json=letter, headers=ACTIONS)
    again = client.post("/api/dead-letters", json=letter, headers=ACTIONS)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    with Session(engine) as session:
        [kept] = session.scalars(select(DeadLetter)).all()
        assert (kept.kind, kept.channel, kept.sender_id) == ("complaint", "sms", "sms:+14165550123")
        assert kept.report["details"]["outcome_wanted"] == TOO_BIG_OUTCOME
        assert kept.problems[0]["loc"] == ["body", "details"]


def test_only_the_assistant_or_staff_token_may_keep_one(client: TestClient, engine: Engine) -> None:
    letter = {"idempotency_key": "k-2", "case": refused_case()}
    assert client.post("/api/dead-letters", json=letter).status_code == 401
    assert client.post("/api/dead-letters", json=letter, headers=STAFF).status_code == 201
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 1


def test_a_report_with_nul_characters_is_kept_too(client: TestClient, engine: Engine) -> None:
    letter = {"idempotency_key": "k-3", "case": case_body(description="bad\x00byte")}
    assert client.post("/api/dead-letters", json=letter, headers=ACTIONS).status_code == 201
    with Session(engine) as session:
        assert session.scalars(select(DeadLetter)).one().report["description"] == "bad\ufffdbyte"


def test_staff_see_the_list_with_everything_the_resident_said(app: FastAPI, client: TestClient) -> None:
    letter = {
        "idempotency_key": "k-4",
        "case": refused_case(),
        "problems": [{"loc": ["body", "details"], "msg": "must be at most 8192 bytes as JSON"}],
    }
    client.post("/api/dead-letters", json=letter, headers=ACTIONS)
    agent, _ = signed_in(app, Role.AGENT)
    page = agent.get("/staff/dead-letters")
    assert page.status_code == 200
    assert "Reports not recorded" in page.text and "must be at most 8192 bytes as JSON" in page.text
    assert TOO_BIG_OUTCOME[:50] in page.text and "sms:+14165550123" in page.text
    assert 'href="/staff/dead-letters"' in agent.get("/staff/cases").text


def test_strangers_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/staff/dead-letters", follow_redirects=False)
    assert response.status_code == 303


def test_a_division_reviewer_does_not_see_reports_of_no_division(app: FastAPI, client: TestClient) -> None:
    client.post("/api/dead-letters", json={"idempotency_key": "k-5", "case": refused_case()}, headers=ACTIONS)
    reviewer, _ = signed_in(app, Role.DIVISION_REVIEWER, divisions=["TW"])
    assert reviewer.get("/staff/dead-letters").status_code == 403
    assert "/staff/dead-letters" not in reviewer.get("/staff/cases").text
