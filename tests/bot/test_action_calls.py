"""Rasa's calls to the action server write the conversation with orjson (serving/action_calls.py): the server gets
the same JSON, with Rasa's headers and authentication, and what orjson refuses is written by json as before."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from serving import action_calls

from channel_testing import free_port


def test_to_json_falls_back_to_json_for_what_orjson_refuses():
    assert action_calls.to_json({"a": [1, 2.5, None, "é"]}) == '{"a":[1,2.5,null,"é"]}'
    assert action_calls.to_json({1: "key that is not text"}) == json.dumps({1: "key that is not text"})


def test_the_action_server_gets_the_conversation_as_rasa_sends_it(monkeypatch):
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)  # undone afterwards
    action_calls.install()
    received = {}

    async def webhook(request: web.Request) -> web.Response:
        received.update(body=await request.text(), headers=dict(request.headers), query=dict(request.query))
        return web.json_response({"events": [], "responses": []})

    async def call() -> dict:
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-City": "311"},
                                      basic_auth={"username": "rasa", "password": "secret"}, token="t0ken")
            tracker = DialogueStateTracker.from_events("web:resident", [
                ActionExecuted("action_listen"), UserUttered("Pothole on Elm Street – deep", {"name": "inform"}),
                SlotSet("location", "45 Elm Street")])
            payload = RemoteAction("validate_report_form", endpoint)._action_call_format(tracker, Domain.empty())
            answer = await endpoint.request(json=payload, method="post")
            return {"payload": payload, "answer": answer}
        finally:
            await runner.cleanup()

    sent = asyncio.run(call())
    assert sent["answer"] == {"events": [], "responses": []}
    assert json.loads(received["body"]) == json.loads(json.dumps(sent["payload"]))
    assert '": ' not in received["body"]  # written by orjson (json.dumps puts a space after each colon)
    assert received["headers"]["X-City"] == "311"
    assert received["headers"]["Authorization"].startswith("Basic ")
    assert received["query"] == {"token": "t0ken"}
