"""Bearer tokens: who may create, read and list cases, and that nothing runs open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from backend_testing import ACTIONS, STAFF, case_body
from fastapi import FastAPI
from fastapi.testclient import TestClient

WRONG = {"Authorization": "Bearer not-the-token"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        WRONG,
        {"Authorization": "Basic c3RhZmY6cGFzcw=="},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer ü".encode()},
    ],
)
def test_case_creation_without_a_good_token_is_401(
    client: TestClient, headers: dict[str, Any], count_cases: Callable[[], int]
) -> None:
    response = client.post("/api/cases", json=case_body(), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"]
    assert count_cases() == 0


@pytest.mark.parametrize("path", ["/api/cases", "/api/cases/S-4F7KQ2X"])
@pytest.mark.parametrize("headers", [{}, WRONG, ACTIONS])
def test_staff_endpoints_refuse_anyone_but_staff(client: TestClient, path: str, headers: dict[str, str]) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 401


def test_both_the_actions_and_the_staff_token_may_create(client: TestClient) -> None:
    assert client.post("/api/cases", json=case_body(), headers=ACTIONS).status_code == 201
    assert client.post("/api/cases", json=case_body(), headers=STAFF).status_code == 201


def test_an_unset_staff_token_disables_the_staff_endpoints(make_app: Callable[..., FastAPI]) -> None:
    client = TestClient(make_app(staff_token=None))
    for path in ("/api/cases", "/api/cases/S-4F7KQ2X"):
        for headers in ({}, STAFF, {"Authorization": "Bearer "}):
            response = client.get(path, headers=headers)
            assert response.status_code == 503
            assert "INTAKE_STAFF_TOKEN" in response.json()["detail"]
    # The action server can still create cases.
    assert client.post("/api/cases", json=case_body(), headers=ACTIONS).status_code == 201


def test_case_creation_is_disabled_when_no_token_is_set(
    make_app: Callable[..., FastAPI], count_cases: Callable[[], int]
) -> None:
    client = TestClient(make_app(staff_token=None, actions_token=None))
    for headers in ({}, ACTIONS, STAFF):
        response = client.post("/api/cases", json=case_body(), headers=headers)
        assert response.status_code == 503
        assert "INTAKE_ACTIONS_TOKEN" in response.json()["detail"]
    assert count_cases() == 0


def test_an_unset_actions_token_still_lets_staff_create(make_app: Callable[..., FastAPI]) -> None:
    client = TestClient(make_app(actions_token=None))
    assert client.post("/api/cases", json=case_body(), headers=ACTIONS).status_code == 401
    assert client.post("/api/cases", json=case_body(), headers=STAFF).status_code == 201


def test_public_endpoints_need_no_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/api/catalog").status_code == 200
    assert client.get("/").status_code == 200
