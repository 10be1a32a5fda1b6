"""The action server (actions/server.py) answers Rasa only: a call without the shared secret runs nothing, and
Rasa's own calls, made with the project's endpoints files, carry it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from bot_testing import FakeBackend, make_tracker
from live import free_port
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config
from rasa_sdk.endpoint import create_app
from sanic import Sanic

from actions.server import SECRET_HEADER, create_action_app
from serving import action_calls

ROOT = Path(__file__).resolve().parents[3]
SECRET = "the-shared-secret_0123456789"
# A complete report in a conversation that is not the caller's: what a forged tracker would file.
REPORT = {
    "kind": "service_request",
    "report_id": "forged-1",
    "description": "My green bin was not picked up",
    "location": "12 Elm St",
    "service_code": "SWMS-MISSED-PICKUP",
    "service_attributes": {"stream": ["green_bin"]},
    "contact_method": "none",
    "consent": False,
    "confirmed": True,
}


def forged_call(action: str = "action_submit_case") -> dict[str, Any]:
    """An action call as Rasa makes one, for a conversation the sender made up."""
    tracker = make_tracker(slots=REPORT, sender_id="someone-else")
    return {
        "next_action": action,
        "sender_id": tracker.sender_id,
        "tracker": tracker.current_state(),
        "domain": {},
        "version": "3.6.2",
    }


@asynccontextmanager
async def serving(app: Sanic) -> AsyncIterator[str]:
    """Serve the action server on a free local port; yield its base URL."""
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


async def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body, headers=headers or {}) as answer:
            return answer.status, await answer.json(content_type=None)


def forge(monkeypatch, app: Sanic, headers: dict[str, str] | None) -> tuple[int, FakeBackend]:
    async def main() -> tuple[int, FakeBackend]:
        async with FakeBackend() as backend, serving(app) as url:
            monkeypatch.setenv("INTAKE_BACKEND_URL", backend.url)
            status, _ = await post(f"{url}/webhook", forged_call(), headers)
            return status, backend

    return asyncio.run(main())


def test_stock_rasa_sdk_files_a_forged_trackers_case(monkeypatch, backend_env):
    status, backend = forge(monkeypatch, create_app("actions", cors_origins="*"), None)
    assert status == 200 and len(backend.requests) == 1  # what `rasa run actions` did for anyone


@pytest.mark.parametrize(
    "headers",
    [
        None,
        {SECRET_HEADER: ""},
        {SECRET_HEADER: "wrong"},
        {SECRET_HEADER: SECRET + " "},
        {SECRET_HEADER: SECRET.upper()},
        {"Authorization": f"Bearer {SECRET}"},
    ],
    ids=["none", "empty", "wrong", "trailing space", "other case", "other header"],
)
def test_a_call_without_the_secret_is_refused_and_files_nothing(monkeypatch, backend_env, headers):
    status, backend = forge(monkeypatch, create_action_app(SECRET), headers)
    assert status == 401
    assert backend.requests == []


def test_a_call_with_the_secret_runs_the_action(monkeypatch, backend_env):
    status, backend = forge(monkeypatch, create_action_app(SECRET), {SECRET_HEADER: SECRET})
    assert status == 200 and len(backend.requests) == 1


def test_only_health_answers_without_the_secret_and_no_web_page_may_call(backend_env):
    async def main() -> dict[str, Any]:
        results: dict[str, Any] = {}
        async with serving(create_action_app(SECRET)) as url, aiohttp.ClientSession() as session:
            for path in ("/health", "/actions"):
                async with session.get(f"{url}{path}") as answer:
                    results[path] = answer.status
            async with session.get(f"{url}/actions", headers={SECRET_HEADER: SECRET}) as answer:
                results["/actions with the secret"] = answer.status
            async with session.options(
                f"{url}/webhook",
                headers={
                    "Origin": "https://evil.example",
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": SECRET_HEADER,
                },
            ) as answer:
                results["preflight"] = answer.headers.get("Access-Control-Allow-Origin")
            async with session.post(
                f"{url}/webhook",
                json=forged_call("action_listen_nowhere"),
                headers={"Origin": "https://evil.example", SECRET_HEADER: SECRET},
            ) as answer:
                results["cross-origin"] = answer.headers.get("Access-Control-Allow-Origin")
        return results

    assert asyncio.run(main()) == {
        "/health": 200,
        "/actions": 401,
        "/actions with the secret": 200,
        "preflight": None,
        "cross-origin": None,
    }


def test_the_server_will_not_start_without_a_secret():
    with pytest.raises(SystemExit, match="INTAKE_ACTIONS_SECRET"):
        create_action_app("")


@pytest.mark.parametrize("endpoints", ["bot/endpoints.yml", "deploy/endpoints.production.yml"])
@pytest.mark.parametrize("kept_alive", [False, True], ids=["rasa's sessions", "kept-alive sessions"])
def test_rasas_calls_made_with_the_endpoints_files_carry_the_secret(monkeypatch, backend_env, endpoints, kept_alive):
    for name in (
        "INTAKE_TRACKER_SQLITE_PATH",
        "INTAKE_LOCK_SQLITE_PATH",
        "INTAKE_TRACKER_DB_HOST",
        "INTAKE_TRACKER_DB_PORT",
        "INTAKE_TRACKER_DB_NAME",
        "INTAKE_TRACKER_DB_USER",
        "INTAKE_TRACKER_DB_PASSWORD",
        "INTAKE_REDIS_HOST",
        "INTAKE_REDIS_PORT",
        "INTAKE_REDIS_DB",
        "INTAKE_REDIS_PASSWORD",
    ):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("INTAKE_ACTIONS_SECRET", SECRET)
    if kept_alive:
        monkeypatch.setattr(action_calls, "SESSIONS", action_calls.SharedSessions())
        monkeypatch.setattr(EndpointConfig, "session", action_calls.session)  # as serving/action_calls.py installs
    app = create_action_app(SECRET)

    async def main() -> dict[str, Any]:
        async with serving(app) as url:
            monkeypatch.setenv("INTAKE_ACTION_SERVER_URL", f"{url}/webhook")
            endpoint = read_endpoint_config(str(ROOT / endpoints), "action_endpoint")
            tracker = DialogueStateTracker.from_events(
                "web-1",
                [ActionExecuted("action_listen"), UserUttered("hello", {"name": "greet"}), SlotSet("location", "x")],
            )
            payload = RemoteAction("action_session_start", endpoint)._action_call_format(tracker, Domain.empty())
            try:
                return await endpoint.request(json=payload, method="post")
            finally:
                await action_calls.SESSIONS.close()

    answer = asyncio.run(main())
    assert "events" in answer
