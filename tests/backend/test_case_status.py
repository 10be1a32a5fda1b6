"""A resident asks where their case is: the answer goes only to the conversation that filed it, or to someone
who knows the last 4 digits of the phone number given with it; anyone else's case looks like a missing one."""

from __future__ import annotations

from typing import Any

from backend_testing import ACTIONS, STAFF, both_databases, case_body
from fastapi.testclient import TestClient

from backend import references


def _file(client: TestClient, **changes: Any) -> str:
    response = client.post("/api/cases", json=case_body(**changes), headers=ACTIONS)
    assert response.status_code == 201, response.text
    return response.json()["reference"]


def _ask(client: TestClient, **body: Any) -> Any:
    return client.post("/api/cases/status", json=body, headers=ACTIONS)


@both_databases
def test_the_conversation_that_filed_it_gets_the_status(client: TestClient) -> None:
    reference = _file(client, sender_id="resident-a", division="SWMS")
    response = _ask(client, reference=reference, sender_id="resident-a")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"reference", "kind", "status", "division", "created_at", "updated_at"}
    assert (answer["reference"], answer["kind"], answer["status"], answer["division"]) == (
        reference,
        "service_request",
        "new",
        "SWMS",
    )


def test_the_reference_may_be_typed_loosely(client: TestClient) -> None:
    reference = _file(client, sender_id="resident-a")
    loose = reference.lower().replace("-", " ")
    assert _ask(client, reference=loose, sender_id="resident-a").json()["reference"] == reference


@both_databases
def test_another_residents_case_looks_like_no_case(client: TestClient) -> None:
    reference = _file(client, sender_id="resident-a", details={"contact": {"method": "phone", "phone": "4165550123"}})
    someone_else = _ask(client, reference=reference, sender_id="resident-b")
    wrong_digits = _ask(client, reference=reference, sender_id="resident-b", phone_last4="9999")
    body, prefix = "ABCDEF", reference[0]
    check = references.check_character(prefix + body)
    missing = _ask(client, reference=f"{prefix}-{body}{check}", sender_id="resident-b")
    assert someone_else.status_code == wrong_digits.status_code == missing.status_code == 404
    assert someone_else.json() == wrong_digits.json() == missing.json()
    assert "description" not in someone_else.text and "12 Elm" not in someone_else.text


def test_the_last_four_digits_of_the_phone_given_open_it(client: TestClient) -> None:
    reference = _file(client, sender_id="web-1", details={"contact": {"method": "phone", "phone": "416-555-0123"}})
    response = _ask(client, reference=reference, sender_id="web-2", phone_last4="0123")
    assert response.status_code == 200 and response.json()["reference"] == reference


def test_an_sms_case_opens_with_the_last_digits_of_the_number_it_came_from(client: TestClient) -> None:
    reference = _file(client, sender_id="+14165550177", channel="sms")
    assert _ask(client, reference=reference, sender_id="web-3", phone_last4="0177").status_code == 200
    assert _ask(client, reference=reference, sender_id="web-3", phone_last4="0178").status_code == 404


@both_databases
def test_after_five_wrong_guesses_of_the_digits_even_the_right_ones_wait_a_day(client: TestClient) -> None:
    reference = _file(client, sender_id="web-1", details={"contact": {"method": "phone", "phone": "416-555-0123"}})
    before = client.get(f"/api/cases/{reference}", headers=STAFF).json()["updated_at"]
    for guess in ("1111", "2222", "3333", "4444"):
        assert _ask(client, reference=reference, sender_id="web-9", phone_last4=guess).status_code == 404
    assert _ask(client, reference=reference, sender_id="web-2", phone_last4="0123").status_code == 200  # 4 wrong: ok
    assert _ask(client, reference=reference, sender_id="web-9", phone_last4="5555").status_code == 404  # the 5th
    locked = _ask(client, reference=reference, sender_id="web-2", phone_last4="0123")
    assert locked.status_code == 404 and locked.json() == _ask(client, reference=reference, sender_id="web-9").json()
    assert _ask(client, reference=reference, sender_id="web-1").status_code == 200  # the filer still gets it
    assert client.get(f"/api/cases/{reference}", headers=STAFF).json()["updated_at"] == before  # no change shown


def test_without_a_phone_on_the_case_no_digits_open_it(client: TestClient) -> None:
    reference = _file(client, sender_id="web-4")
    for digits in ("0000", "1234"):
        assert _ask(client, reference=reference, sender_id="web-5", phone_last4=digits).status_code == 404


def test_a_mistyped_reference_is_told_apart_from_a_missing_one(client: TestClient) -> None:
    reference = _file(client, sender_id="resident-a")
    swapped = reference[:3] + reference[4] + reference[3] + reference[5:]
    if swapped == reference:  # two equal neighbours: change one character instead
        swapped = reference[:3] + ("2" if reference[3] != "2" else "3") + reference[4:]
    for typo in (swapped, "S-123", "hello"):
        response = _ask(client, reference=typo, sender_id="resident-a")
        assert response.status_code == 400, typo
        assert "not a valid reference" in response.json()["detail"]


def test_bad_queries_are_refused_plainly(client: TestClient) -> None:
    reference = _file(client, sender_id="resident-a")
    for body in (
        {"reference": reference},
        {"reference": reference, "sender_id": "resident-a", "phone_last4": "12345"},
        {"reference": reference, "sender_id": "resident-a", "extra": 1},
    ):
        assert _ask(client, **body).status_code == 422, body


def test_it_needs_the_action_servers_or_staff_token(client: TestClient) -> None:
    reference = _file(client, sender_id="resident-a")
    body = {"reference": reference, "sender_id": "resident-a"}
    assert client.post("/api/cases/status", json=body).status_code == 401
    assert client.post("/api/cases/status", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/api/cases/status", json=body, headers=STAFF).status_code == 200
