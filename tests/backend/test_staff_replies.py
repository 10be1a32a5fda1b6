"""Replies to residents go through Rasa's HTTP API (a local stand-in here) and are recorded on the case."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from backend_testing import both_databases
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from staff_testing import (  # noqa: F401  (the underscored names are autouse fixtures)
    _empty_staff_tables,
    _quick_password_hashing,
    new_case,
    post_form,
    post_refused,
    signed_in,
)

from backend.audit.models import AuditEntry
from backend.cases.models import CaseUpdate
from backend.staff.permissions import Role

RASA_TOKEN = "rasa-token-for-tests"


class StandInRasa:
    """Rasa's conversation endpoints as the backend uses them, recording what they receive."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.active_loop: str | None = None
        self.pushes = False  # True: like an SMS or Telegram channel; False: like the REST channel
        self.fail_with: int | None = None
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                stand_in.requests.append((self.command, url.path, query, body))
                if query.get("token") != [RASA_TOKEN]:
                    return self._answer(401, {"status": "failure", "reason": "NotAuthenticated"})
                if stand_in.fail_with:
                    return self._answer(stand_in.fail_with, {"status": "failure"})
                if self.command == "GET" and url.path.endswith("/tracker"):
                    loop = {"name": stand_in.active_loop} if stand_in.active_loop else {}
                    return self._answer(200, {"sender_id": "x", "active_loop": loop, "events": None})
                if self.command == "POST" and url.path.endswith("/trigger_intent"):
                    answer: dict[str, Any] = {"tracker": {}}
                    if not stand_in.pushes:
                        text = body["entities"]["staff_reply"]
                        answer["messages"] = [{"recipient_id": "x", "text": text}]
                    return self._answer(200, answer)
                return self._answer(404, {})

            do_GET = _handle
            do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandInRasa:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def rasa() -> Iterator[StandInRasa]:
    with StandInRasa() as running:
        yield running


@pytest.fixture
def replying_app(make_app: Callable[..., FastAPI], rasa: StandInRasa) -> FastAPI:
    return make_app(rasa_url=rasa.url, rasa_token=RASA_TOKEN, rasa_timeout_seconds=5.0)


def replies(engine: Engine) -> list[tuple[str | None, str | None, str | None]]:
    with Session(engine) as session:
        rows = session.scalars(select(CaseUpdate).where(CaseUpdate.kind == "reply").order_by(CaseUpdate.id))
        return [(u.text, u.new_value, u.delivery) for u in rows]


@both_databases
def test_a_reply_goes_to_rasa_as_an_external_event_and_is_recorded(
    replying_app: FastAPI, rasa: StandInRasa, engine: Engine
) -> None:
    rasa.pushes = True
    client, _ = signed_in(replying_app, Role.AGENT)
    reference = new_case(client, kind="complaint", channel="sms", sender_id="+14165550199")
    response = post_form(client, f"/staff/cases/{reference}/reply", {"text": "  We fixed it today.\nSorry!  "})
    assert response.status_code == 303
    message = f"About your report {reference}: We fixed it today. Sorry!"
    method, path, query, body = rasa.requests[-1]
    assert (method, path) == ("POST", "/conversations/+14165550199/trigger_intent")
    assert query == {"output_channel": ["latest"], "token": [RASA_TOKEN]}
    assert body == {"name": "EXTERNAL_staff_reply", "entities": {"staff_reply": message}}
    assert rasa.requests[0][:2] == ("GET", "/conversations/+14165550199/tracker")
    assert replies(engine) == [(message, "sms", "sent")]
    page = client.get(f"/staff/cases/{reference}").text
    assert "Sent on the resident&#39;s channel" in page and "Recorded" in page
    # A reply that reached the resident counts as contact: the complaint may now be closed.
    assert post_form(client, f"/staff/cases/{reference}/close", {}).status_code == 303
    with Session(engine) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "reply")).one()
    assert entry.after == {"reply": message, "channel": "sms", "delivery": "sent"}


def test_on_the_web_chat_a_reply_is_kept_but_is_not_contact(
    replying_app: FastAPI, rasa: StandInRasa, engine: Engine
) -> None:
    client, _ = signed_in(replying_app, Role.AGENT)
    reference = new_case(client, kind="complaint", channel="rest")
    assert post_form(client, f"/staff/cases/{reference}/reply", {"text": "We are on it"}).status_code == 303
    assert replies(engine)[0][2] == "kept"
    assert "Not shown to the resident: contact them another way" in client.get(f"/staff/cases/{reference}").text
    refused = post_refused(client, f"/staff/cases/{reference}/close", {})
    assert "contact with the resident is recorded" in refused.text


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda rasa: setattr(rasa, "active_loop", "complaint_form"), "in the middle of a new report"),
        (lambda rasa: setattr(rasa, "fail_with", 500), "could not take the reply (HTTP 500)"),
    ],
)
def test_a_reply_that_cannot_go_is_refused_and_not_recorded(
    replying_app: FastAPI, rasa: StandInRasa, engine: Engine, setup: Callable[[StandInRasa], None], message: str
) -> None:
    setup(rasa)
    client, _ = signed_in(replying_app, Role.AGENT)
    reference = new_case(client, channel="telegram")
    response = post_refused(client, f"/staff/cases/{reference}/reply", {"text": "Hello"})
    assert message in response.text
    assert ">Hello</textarea>" in response.text  # what was typed is kept
    assert replies(engine) == []
    # While the resident is mid-report, only the tracker is read: nothing is triggered.
    if rasa.active_loop:
        assert [method for method, *_ in rasa.requests] == ["GET"]


def test_a_wrong_rasa_token_is_named(make_app: Callable[..., FastAPI], rasa: StandInRasa, engine: Engine) -> None:
    app = make_app(rasa_url=rasa.url, rasa_token="not-it")
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client)
    response = post_refused(client, f"/staff/cases/{reference}/reply", {"text": "Hello"})
    assert "INTAKE_RASA_TOKEN" in response.text
    assert replies(engine) == []


def test_when_rasa_is_down_nothing_is_recorded(make_app: Callable[..., FastAPI], engine: Engine) -> None:
    with StandInRasa() as stopped:
        url = stopped.url
    app = make_app(rasa_url=url, rasa_token=RASA_TOKEN, rasa_timeout_seconds=2.0)
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client)
    response = post_refused(client, f"/staff/cases/{reference}/reply", {"text": "Hello"})
    assert "not answering" in response.text
    assert replies(engine) == []


def test_replies_need_the_rasa_address_and_text(app: FastAPI, replying_app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client)
    page = client.get(f"/staff/cases/{reference}").text
    assert "no assistant address set" in page
    response = post_refused(client, f"/staff/cases/{reference}/reply", {"text": "Hello"})
    assert "INTAKE_RASA_URL is not set" in response.text
    other, _ = signed_in(replying_app, Role.AGENT, email="other@city.example")
    for text, why in (("   ", "Write the reply first"), ("x" * 1001, "under 1,000 characters")):
        response = post_refused(other, f"/staff/cases/{reference}/reply", {"text": text})
        assert why in response.text


def test_an_open311_case_has_no_conversation_to_reply_to(replying_app: FastAPI, rasa: StandInRasa) -> None:
    client, _ = signed_in(replying_app, Role.AGENT)
    reference = new_case(client, channel="open311")
    response = post_refused(client, f"/staff/cases/{reference}/reply", {"text": "Hello"})
    assert "Open311" in response.text
    assert rasa.requests == []


def test_settings_read_the_rasa_address_and_token() -> None:
    from backend.config import Settings

    settings = Settings.from_env(
        {"INTAKE_RASA_URL": "http://127.0.0.1:5005/", "INTAKE_RASA_TOKEN": " t ", "INTAKE_RASA_TIMEOUT": "3"}
    )
    assert (settings.rasa_url, settings.rasa_token, settings.rasa_timeout_seconds) == (
        "http://127.0.0.1:5005",
        "t",
        3.0,
    )
    assert "rasa_token" not in repr(settings)
