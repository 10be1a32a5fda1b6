"""Bad requests get a clear 4xx answer and change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from backend_testing import ACTIONS, case_body
from fastapi.testclient import TestClient

JSON = {**ACTIONS, "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (case_body(kind="question"), "kind", "complaint"),
        (case_body(kind=...), "kind", "required"),
        (case_body(description=""), "description", "at least 1"),
        (case_body(description="   \n "), "description", "at least 1"),
        (case_body(description="x" * 5000), "description", "at most 4000"),
        (case_body(description=42), "description", "string"),
        (case_body(description="bad\x00byte"), "description", "NUL"),
        (case_body(location="y" * 501), "location", "at most 500"),
        (case_body(channel="SMS"), "channel", "pattern"),
        (case_body(channel=""), "channel", "at least 1"),
        (case_body(channel="c" * 33), "channel", "at most 32"),
        (case_body(sender_id=""), "sender_id", "at least 1"),
        (case_body(sender_id="s" * 256), "sender_id", "at most 255"),
        (case_body(unknown="field"), "unknown", "Extra inputs"),
        (case_body(details=["not", "a", "dict"]), "details", "dictionary"),
        (case_body(details={f"k{i}": i for i in range(51)}), "details", "at most 50 keys"),
        (case_body(details={"long": "z" * 9000}), "details", "8192 bytes"),
        (case_body(details={"nested": {"deep": ["\x00"]}}), "details", "NUL"),
        (case_body(division="Department of Nowhere"), "division", "Unknown division"),
        (case_body(service_code="NOPE-1"), "service_code", "Unknown service code"),
        (case_body(division="TW", service_code="TS-POTHOLE"), "service_code", "belongs to division"),
    ],
)
def test_invalid_bodies_are_422_with_the_field_named(
    client: TestClient, count_cases: Callable[[], int], body: dict[str, Any], field: str, words: str
) -> None:
    response = client.post("/api/cases", json=body, headers=ACTIONS)
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert any(problem["loc"][-1] == field and words in problem["msg"] for problem in problems), problems
    assert count_cases() == 0


def test_errors_do_not_echo_what_the_resident_wrote(client: TestClient) -> None:
    secret = "my phone is 416-555-0199 " * 200
    response = client.post("/api/cases", json=case_body(description=secret), headers=ACTIONS)
    assert response.status_code == 422
    assert "416-555-0199" not in response.text


@pytest.mark.parametrize(
    "content", [b"{not json", b'{"kind": "complaint",}', b"", b"[]", b'"a string"', b"null", b"\xff\xfe"]
)
def test_malformed_json_is_4xx(client: TestClient, count_cases: Callable[[], int], content: bytes) -> None:
    response = client.post("/api/cases", content=content, headers=JSON)
    assert response.status_code in (400, 422), response.text
    assert response.json()["detail"]
    assert count_cases() == 0


def test_malformed_json_message_says_so(client: TestClient) -> None:
    response = client.post("/api/cases", content=b"{not json", headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"].startswith("Malformed JSON")


def test_a_body_that_is_not_json_is_422(client: TestClient, count_cases: Callable[[], int]) -> None:
    response = client.post(
        "/api/cases", content=json.dumps(case_body()).encode(), headers={**ACTIONS, "Content-Type": "text/plain"}
    )
    assert response.status_code == 422
    assert count_cases() == 0


def test_a_100_kb_body_is_413(client: TestClient, count_cases: Callable[[], int]) -> None:
    body = case_body(details={"padding": "p" * 100_000})
    response = client.post("/api/cases", json=body, headers=ACTIONS)
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert count_cases() == 0


def test_a_large_body_without_content_length_is_413(client: TestClient, count_cases: Callable[[], int]) -> None:
    encoded = json.dumps(case_body(details={"padding": "p" * 100_000})).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(encoded), 4096):
            yield encoded[start : start + 4096]

    response = client.post("/api/cases", content=chunks(), headers=JSON)
    assert "content-length" not in {name.lower() for name in response.request.headers}
    assert response.status_code == 413
    assert count_cases() == 0


def test_a_body_just_under_the_limit_is_parsed(client: TestClient) -> None:
    body = case_body(description="d" * 4000)
    response = client.post("/api/cases", json=body, headers=ACTIONS)
    assert response.status_code == 201


@pytest.mark.parametrize("key", ["", "k" * 129, "naïve-key".encode(), "tab\tkey"])
def test_a_bad_idempotency_key_is_refused(client: TestClient, count_cases: Callable[[], int], key: str | bytes) -> None:
    response = client.post("/api/cases", json=case_body(), headers={**ACTIONS, "Idempotency-Key": key})
    assert response.status_code in (400, 422), response.text
    assert count_cases() == 0


def test_a_128_character_idempotency_key_is_fine(client: TestClient) -> None:
    key = "K" * 64 + " ~!@#$%^&*()_+-=[]{}|;:,.<>?/" + "k" * 35
    assert len(key) == 128
    response = client.post("/api/cases", json=case_body(), headers={**ACTIONS, "Idempotency-Key": key})
    assert response.status_code == 201
