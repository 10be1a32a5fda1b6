"""Creating, reading and listing cases through the web API."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from backend_testing import ACTIONS, STAFF, both_databases, case_body
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

import backend.references
from backend import references
from backend.cases import service
from backend.cases.models import Case
from backend.cases.schemas import CaseCreate


@both_databases
def test_create_returns_201_with_a_new_case(client: TestClient) -> None:
    before = datetime.now(timezone.utc)
    body = case_body(kind="complaint", details={"outcome": "pick it up"})
    response = client.post("/api/cases", json=body, headers=ACTIONS)
    assert response.status_code == 201, response.text
    case = response.json()
    assert set(case) == {
        "reference",
        "kind",
        "status",
        "description",
        "location",
        "division",
        "service_code",
        "channel",
        "created_at",
        "updated_at",
        "acknowledge_days",
        "respond_days",
        "acknowledge_due_at",
        "respond_due_at",
    }
    assert case["kind"] == "complaint"
    assert case["status"] == "new"
    assert case["description"] == "The garbage wasn't picked up on my street this morning."
    assert case["location"] == "12 Elm St"
    assert case["channel"] == "rest"
    assert case["reference"].startswith("C-") and references.is_valid(case["reference"])
    created = datetime.fromisoformat(case["created_at"].replace("Z", "+00:00"))
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= created <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert case["updated_at"] == case["created_at"]


@pytest.mark.parametrize(("kind", "prefix"), [("complaint", "C-"), ("compliment", "P-"), ("service_request", "S-")])
def test_the_reference_prefix_follows_the_kind(client: TestClient, kind: str, prefix: str) -> None:
    response = client.post("/api/cases", json=case_body(kind=kind), headers=ACTIONS)
    assert response.json()["reference"].startswith(prefix)


def test_text_is_trimmed_and_a_blank_location_is_none(client: TestClient) -> None:
    response = client.post(
        "/api/cases", json=case_body(description="  pothole on Queen  ", location="   "), headers=ACTIONS
    )
    assert response.status_code == 201
    assert response.json()["description"] == "pothole on Queen"
    assert response.json()["location"] is None


def test_division_and_service_are_checked_against_the_catalog(client: TestClient) -> None:
    by_name = client.post("/api/cases", json=case_body(division="toronto water"), headers=ACTIONS)
    assert by_name.status_code == 201
    assert by_name.json()["division"] == "TW"
    by_service = client.post("/api/cases", json=case_body(service_code="ts-pothole"), headers=ACTIONS)
    assert by_service.status_code == 201
    assert (by_service.json()["division"], by_service.json()["service_code"]) == ("TS", "TS-POTHOLE")


@both_databases
def test_staff_read_a_case_by_reference_in_any_spelling(client: TestClient) -> None:
    body = case_body(details={"when": "today"})
    reference = client.post("/api/cases", json=body, headers=ACTIONS).json()["reference"]
    for spelling in (reference, reference.lower(), reference.replace("-", ""), f" {reference.lower()} "):
        response = client.get(f"/api/cases/{spelling}", headers=STAFF)
        assert response.status_code == 200, spelling
        body = response.json()
        assert body["reference"] == reference
        assert body["sender_id"] == "conversation-1"
        assert body["details"] == {"when": "today"}
        assert body["transcript"] == []


def _with_wrong_check_character(reference: str) -> str:
    wrong = next(char for char in references.ALPHABET if char != reference[-1])
    return reference[:-1] + wrong


def test_a_malformed_reference_is_400_and_an_unknown_one_404(client: TestClient) -> None:
    for bad in ("hello", "S-4F7KQ2", "Z-4F7KQ2X"):
        response = client.get(f"/api/cases/{bad}", headers=STAFF)
        assert response.status_code == 400
        assert response.json() == {"detail": f"{bad} is not a valid reference number"}
    reference = references.generate("complaint")
    wrong = _with_wrong_check_character(reference)
    response = client.get(f"/api/cases/{wrong}", headers=STAFF)
    assert response.status_code == 400
    assert "not a valid reference number" in response.json()["detail"]
    response = client.get(f"/api/cases/{reference}", headers=STAFF)
    assert response.status_code == 404


@both_databases
def test_list_is_newest_first_and_filters(client: TestClient, engine: Engine) -> None:
    made = []
    rows = [
        ("complaint", "sms", "a"),
        ("compliment", "web", "b"),
        ("complaint", "telegram", "a"),
        ("service_request", "sms", "c"),
    ]
    for i, (kind, channel, sender) in enumerate(rows):
        body = case_body(kind=kind, channel=channel, sender_id=sender, description=f"case {i}")
        made.append(client.post("/api/cases", json=body, headers=ACTIONS).json()["reference"])
    # Make creation times distinct and known.
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with Session(engine) as session:
        for i, reference in enumerate(made):
            when = start + timedelta(hours=i)
            session.execute(update(Case).where(Case.reference == reference).values(created_at=when))
        session.execute(update(Case).where(Case.reference == made[1]).values(status="resolved"))
        session.commit()

    def references_for(**params: object) -> list[str]:
        response = client.get("/api/cases", params=params, headers=STAFF)
        assert response.status_code == 200, response.text
        return [item["reference"] for item in response.json()["items"]]

    assert references_for() == made[::-1]
    assert references_for(kind="complaint") == [made[2], made[0]]
    assert references_for(channel="sms") == [made[3], made[0]]
    assert references_for(sender_id="a") == [made[2], made[0]]
    assert references_for(status="resolved") == [made[1]]
    assert references_for(status="new", kind="service_request") == [made[3]]
    assert references_for(limit=2) == [made[3], made[2]]
    assert references_for(limit=2, offset=2) == [made[1], made[0]]
    page = client.get("/api/cases", params={"limit": 1}, headers=STAFF).json()
    assert (page["total"], page["limit"], page["offset"]) == (4, 1, 0)


@pytest.mark.parametrize(
    "params", [{"limit": 101}, {"limit": 0}, {"offset": -1}, {"kind": "question"}, {"status": "x"}]
)
def test_list_refuses_bad_parameters(client: TestClient, params: dict[str, object]) -> None:
    response = client.get("/api/cases", params=params, headers=STAFF)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


@both_databases
def test_same_idempotency_key_returns_the_same_case(client: TestClient, count_cases: Callable[[], int]) -> None:
    headers = {**ACTIONS, "Idempotency-Key": "conversation-1|1700000000.5|complaint"}
    first = client.post("/api/cases", json=case_body(), headers=headers)
    second = client.post("/api/cases", json=case_body(), headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert count_cases() == 1


@both_databases
def test_same_idempotency_key_with_another_body_is_409(client: TestClient, count_cases: Callable[[], int]) -> None:
    headers = {**ACTIONS, "Idempotency-Key": "key-1"}
    assert client.post("/api/cases", json=case_body(), headers=headers).status_code == 201
    response = client.post("/api/cases", json=case_body(description="something else"), headers=headers)
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]
    assert count_cases() == 1


@both_databases
def test_a_replay_still_answers_after_staff_changed_the_case(
    client: TestClient, engine: Engine, count_cases: Callable[[], int]
) -> None:
    headers = {**ACTIONS, "Idempotency-Key": "key-2"}
    reference = client.post("/api/cases", json=case_body(), headers=headers).json()["reference"]
    with engine.begin() as connection:
        connection.execute(update(Case).where(Case.reference == reference).values(status="acknowledged"))
    response = client.post("/api/cases", json=case_body(), headers=headers)
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert count_cases() == 1


@both_databases
def test_different_idempotency_keys_make_different_cases(client: TestClient, count_cases: Callable[[], int]) -> None:
    for key in ("a", "b"):
        response = client.post("/api/cases", json=case_body(), headers={**ACTIONS, "Idempotency-Key": key})
        assert response.status_code == 201
    assert count_cases() == 2


@both_databases
def test_concurrent_requests_with_one_idempotency_key_make_one_case(
    app: FastAPI, count_cases: Callable[[], int]
) -> None:
    headers = {**ACTIONS, "Idempotency-Key": "same-key-from-many-threads"}
    start = threading.Barrier(20)

    def submit(_: int) -> tuple[int, str]:
        client = TestClient(app)
        start.wait()
        response = client.post("/api/cases", json=case_body(), headers=headers)
        return response.status_code, response.json()["reference"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(submit, range(20)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 19 + [201]
    assert len({reference for _, reference in results}) == 1
    assert count_cases() == 1


@both_databases
def test_50_concurrent_writers_get_unique_references(app: FastAPI, engine: Engine) -> None:
    start = threading.Barrier(50)

    def submit(i: int) -> str:
        body = case_body(kind=("complaint", "compliment", "service_request")[i % 3], sender_id=f"writer-{i}")
        client = TestClient(app)
        start.wait()
        response = client.post("/api/cases", json=body, headers=ACTIONS)
        assert response.status_code == 201, response.text
        return str(response.json()["reference"])

    with ThreadPoolExecutor(max_workers=50) as pool:
        made = list(pool.map(submit, range(50)))
    assert len(set(made)) == 50
    with engine.connect() as connection:
        stored = list(connection.scalars(select(Case.reference)))
    assert sorted(stored) == sorted(made)


@both_databases
def test_a_reference_collision_is_retried(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, count_cases: Callable[[], int]
) -> None:
    taken = client.post("/api/cases", json=case_body(), headers=ACTIONS).json()["reference"]
    real = references.generate
    drawn: list[str] = []

    def generate(kind: str) -> str:
        reference = taken if len(drawn) < 2 else real(kind)
        drawn.append(reference)
        return reference

    monkeypatch.setattr(backend.references, "generate", generate)
    response = client.post("/api/cases", json=case_body(), headers=ACTIONS)
    assert response.status_code == 201
    assert response.json()["reference"] not in (taken,)
    assert drawn[:2] == [taken, taken] and len(drawn) == 3
    assert count_cases() == 2


def test_creation_gives_up_when_every_reference_is_taken(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch, count_cases: Callable[[], int]
) -> None:
    taken = client.post("/api/cases", json=case_body(), headers=ACTIONS).json()["reference"]
    monkeypatch.setattr(backend.references, "generate", lambda kind: taken)
    with Session(app.state.database.engine) as session, pytest.raises(RuntimeError, match="no free reference"):
        service.create(session=session, catalog=app.state.catalog, case_in=CaseCreate.model_validate(case_body()))
    assert count_cases() == 1
