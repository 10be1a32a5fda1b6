"""Rasa's calls to the action server (serving/action_calls.py) write the conversation with orjson: the server gets
the same JSON, with Rasa's headers and authentication, and what orjson refuses is written by json as before. A
worker's calls share a kept-alive connection, let go before the action server would close it."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from live import free_port
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from serving import action_calls


async def action_server(webhook) -> tuple:
    """Serve `webhook` at /webhook on a free local port; return the runner (to clean up) and the port."""
    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


def test_to_json_falls_back_to_json_for_what_orjson_refuses():
    assert action_calls.to_json({"a": [1, 2.5, None, "é"]}) == '{"a":[1,2.5,null,"é"]}'
    assert action_calls.to_json({1: "key that is not text"}) == json.dumps({1: "key that is not text"})


def test_the_action_server_gets_the_conversation_as_rasa_sends_it(monkeypatch):
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)  # undone afterwards
    monkeypatch.setattr(action_calls, "SESSIONS", action_calls.SharedSessions())
    action_calls.install()
    received = {}

    async def webhook(request: web.Request) -> web.Response:
        received.update(body=await request.text(), headers=dict(request.headers), query=dict(request.query))
        return web.json_response({"events": [], "responses": []})

    async def call() -> dict:
        runner, port = await action_server(webhook)
        try:
            endpoint = EndpointConfig(
                f"http://127.0.0.1:{port}/webhook",
                headers={"X-City": "311"},
                basic_auth={"username": "rasa", "password": "secret"},
                token="t0ken",
            )
            tracker = DialogueStateTracker.from_events(
                "web:resident",
                [
                    ActionExecuted("action_listen"),
                    UserUttered("Pothole on Elm Street – deep", {"name": "inform"}),
                    SlotSet("location", "45 Elm Street"),
                ],
            )
            payload = RemoteAction("validate_report_form", endpoint)._action_call_format(tracker, Domain.empty())
            answer = await endpoint.request(json=payload, method="post")
            return {"payload": payload, "answer": answer}
        finally:
            await action_calls.SESSIONS.close()
            await runner.cleanup()

    sent = asyncio.run(call())
    assert sent["answer"] == {"events": [], "responses": []}
    assert json.loads(received["body"]) == json.loads(json.dumps(sent["payload"]))
    assert '": ' not in received["body"]  # written by orjson (json.dumps puts a space after each colon)
    assert received["headers"]["X-City"] == "311"
    assert received["headers"]["Authorization"].startswith("Basic ")
    assert received["query"] == {"token": "t0ken"}


def test_calls_from_one_worker_share_a_kept_alive_connection(monkeypatch):
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)  # undone afterwards
    monkeypatch.setattr(action_calls, "SESSIONS", action_calls.SharedSessions())

    async def calls() -> list:
        peers = []

        async def webhook(request: web.Request) -> web.Response:
            peers.append(request.transport.get_extra_info("peername")[1])
            return web.json_response({"events": [], "responses": []})

        runner, port = await action_server(webhook)
        try:
            endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
            for _ in range(3):
                assert await endpoint.request(json={"next_action": "action_x"}, method="post") == {
                    "events": [],
                    "responses": [],
                }
        finally:
            await action_calls.SESSIONS.close()
            await runner.cleanup()
        return peers

    rasas_way = asyncio.run(calls())
    assert len(set(rasas_way)) == 3  # a new connection for every call
    action_calls.install()
    kept = asyncio.run(calls())
    assert len(kept) == 3 and len(set(kept)) == 1


def test_one_session_per_loop_and_endpoint_settings():
    sessions = action_calls.SharedSessions()
    city = EndpointConfig("http://127.0.0.1:1/webhook", headers={"X-City": "311"})
    same = EndpointConfig("http://127.0.0.1:1/other", headers={"X-City": "311"})
    other = EndpointConfig("http://127.0.0.1:1/webhook", basic_auth={"username": "rasa", "password": "secret"})

    async def first_loop():
        async with sessions.borrow(city) as session:
            pass
        assert not session.closed  # leaving `async with` leaves it open
        assert sessions.get(same) is session and sessions.get(other) is not session
        return session

    old = asyncio.run(first_loop())

    async def second_loop():
        session = sessions.get(city)
        assert session is not old and not session.closed
        assert old.closed  # dropped with its closed loop
        await sessions.close()
        assert session.closed and sessions.get(city) is not session
        await sessions.close()

    asyncio.run(second_loop())


def test_connections_are_let_go_before_the_action_server_closes_them():
    from sanic.config import DEFAULT_CONFIG

    assert action_calls.KEEPALIVE_SECONDS < DEFAULT_CONFIG["KEEP_ALIVE_TIMEOUT"]


def test_a_stopping_worker_closes_its_sessions(monkeypatch):
    import rasa.core.run

    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    monkeypatch.setattr(rasa.core.run, "close_resources", rasa.core.run.close_resources)
    monkeypatch.setattr(action_calls, "SESSIONS", action_calls.SharedSessions())
    action_calls.install()

    class App:
        class ctx:  # noqa: N801 - Sanic's attribute name
            agent = None

    async def stop():
        session = action_calls.SESSIONS.get(EndpointConfig("http://127.0.0.1:1/webhook"))
        await rasa.core.run.close_resources(App(), asyncio.get_running_loop())
        return session

    assert asyncio.run(stop()).closed
