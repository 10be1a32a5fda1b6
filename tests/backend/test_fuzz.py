"""Fuzz the write endpoints: random bodies, field types, strings and headers never cause a 5xx or a stray case."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from backend_testing import ACTIONS, OPEN311_API_KEY, case_body
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Examples per test; the four tests send 1,200 requests in all.
EXAMPLES = 300
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text with anything Unicode allows, control characters and NUL included, and the odd surrogate-free oddity.
any_text = st.text(st.characters(codec="utf-8"), max_size=60) | st.sampled_from(
    ["", " ", "\x00", "\u202e", "\ufeff", "x" * 4001, "\r\n", "é" * 300, "S-2222222", "TS-POTHOLE"]
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12,
)
CASE_FIELDS = ["kind", "description", "location", "division", "service_code", "channel", "sender_id", "details"]
# Header values as bytes: anything a client could put on the wire except the line breaks that end a header.
header_values = st.binary(max_size=140).filter(lambda value: b"\r" not in value and b"\n" not in value) | st.just(
    b"key-1"
)


def _status_and_count(send: Callable[[], Any], count_cases: Callable[[], int]) -> tuple[int, int]:
    """Send one request and return its status code and how many cases it added."""
    before = count_cases()
    response = send()
    return response.status_code, count_cases() - before


def _check(status: int, added: int) -> None:
    """Assert the server answered without an error of its own and created a case only when it said so."""
    assert status < 500, status
    assert added == (1 if status == 201 else 0), (status, added)


@FUZZ_SETTINGS
@given(
    changes=st.dictionaries(st.sampled_from(CASE_FIELDS) | any_text, json_values, max_size=5),
    key=st.none() | header_values,
    authorized=st.booleans() | st.just(True),
)
def test_fuzz_case_fields(
    client: TestClient, count_cases: Callable[[], int], changes: dict[str, Any], key: bytes | None, authorized: bool
) -> None:
    body = case_body(**changes)
    headers: dict[str, Any] = dict(ACTIONS) if authorized else {"Authorization": "Bearer wrong"}
    if key is not None:
        headers["Idempotency-Key"] = key
    _check(*_status_and_count(lambda: client.post("/api/cases", json=body, headers=headers), count_cases))


@FUZZ_SETTINGS
@given(body=json_values | st.binary(max_size=200), content_type=st.sampled_from(["application/json", "text/plain"]))
def test_fuzz_case_bodies(client: TestClient, count_cases: Callable[[], int], body: Any, content_type: str) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    headers = {**ACTIONS, "Content-Type": content_type}
    _check(*_status_and_count(lambda: client.post("/api/cases", content=content, headers=headers), count_cases))


OPEN311_FIELDS = [
    "api_key", "service_code", "address_string", "lat", "long", "description", "email", "first_name", "last_name",
    "phone", "attribute[lane_position]", "attribute[water_running]", "attribute[]", "attribute[x][]", "attribute[",
]  # fmt: skip
numbers = st.floats().map(str) | st.integers().map(str)
form_values = any_text | numbers | st.sampled_from(["TS-POTHOLE", "TW-WATER-MAIN-BREAK", "curb_lane", "yes", "sky"])


@FUZZ_SETTINGS
@given(
    fields=st.dictionaries(st.sampled_from(OPEN311_FIELDS) | any_text, form_values, max_size=8),
    keep_key=st.booleans() | st.just(True),
    fmt=st.sampled_from(["json", "xml"]),
)
def test_fuzz_open311_fields(
    client: TestClient, count_cases: Callable[[], int], fields: dict[str, str], keep_key: bool, fmt: str
) -> None:
    form = {"api_key": OPEN311_API_KEY, "service_code": "TS-POTHOLE", "lat": "43.6", "long": "-79.4"}
    if not keep_key:
        form.pop("api_key")
    form.update(fields)
    encoded = "&".join(f"{_quote(name)}={_quote(value)}" for name, value in form.items()).encode("utf-8")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    _check(
        *_status_and_count(
            lambda: client.post(f"/open311/v2/requests.{fmt}", content=encoded, headers=headers), count_cases
        )
    )


@FUZZ_SETTINGS
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "multipart/form-data", "text/xml"]
    ),
)
def test_fuzz_open311_bodies(
    client: TestClient, count_cases: Callable[[], int], body: bytes, content_type: str
) -> None:
    headers = {"Content-Type": content_type}
    _check(
        *_status_and_count(lambda: client.post("/open311/v2/requests.json", content=body, headers=headers), count_cases)
    )


def _quote(text: str) -> str:
    """Return `text` percent-encoded for a form body."""
    return quote_plus(text.encode("utf-8", "surrogatepass"))
