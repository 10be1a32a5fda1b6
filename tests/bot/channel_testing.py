"""Run one connector in a real Sanic server, with a scripted stand-in for Rasa behind it, for the channel tests."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from live import free_port
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

_apps = itertools.count()
# Sanic's own switch for running several apps in one process (it rewrites some methods once per app otherwise).
Sanic.test_mode = True
Reply = dict[str, Any]


class ScriptedRasa:
    """Stands where Rasa's agent would: records each message and answers with `answer(message)`'s replies."""

    def __init__(self, answer: Callable[[UserMessage], list[Reply]] | None = None) -> None:
        self.received: list[UserMessage] = []
        self.answer = answer or (lambda message: [{"text": f"You said: {message.text}"}])

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        for reply in self.answer(message):
            await message.output_channel.send_response(message.sender_id, dict(reply))

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.received]


@asynccontextmanager
async def serve(channel: InputChannel, rasa: ScriptedRasa, port: int | None = None) -> AsyncIterator[str]:
    """Serve the channel's webhooks under /webhooks/ (on `port`, or a free one); yield the channel's base URL."""
    app = Sanic(f"channel_test_{next(_apps)}")
    # As rasa.core.channels.channel.register does, with the scripted Rasa in place of the agent.
    app.blueprint(channel.blueprint(rasa), url_prefix=f"/webhooks/{channel.url_prefix()}")
    port = port or free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}/webhooks/{channel.name()}"
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()
