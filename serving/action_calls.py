"""Rasa's calls to the action server: over kept-alive connections, with the conversation written as JSON by orjson.

Rasa 3.6 opens a new HTTP client session, and so a new TCP connection, for every call to the action server (one or
two per turn), and closes it after the answer. Here each worker's event loop keeps one client session per endpoint
settings (headers, authentication), whose connections stay open between calls for `KEEPALIVE_SECONDS`: under the
action server's own 5 seconds (Sanic's default), so the server never closes a connection the client is about to
reuse. nginx, in front of the action servers in the cluster, keeps its connections for 75 seconds.

At every call Rasa sends the whole conversation so far (every event of the session), written by `json.dumps` as
aiohttp's default: about 0.7 ms of a worker's CPU per turn, growing with the conversation. orjson writes the same
JSON about ten times faster. Anything orjson cannot write (a type it does not know, a key that is not text) is
written by `json.dumps`, as before.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import orjson
import rasa.core.run
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

KEEPALIVE_SECONDS = 2.0


def to_json(value: Any) -> str:
    """The JSON text of `value`: orjson's, or json's when orjson refuses it."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def _settings(endpoint: EndpointConfig) -> tuple[Any, ...]:
    auth = endpoint.basic_auth or {}
    return (tuple(sorted((endpoint.headers or {}).items())), auth.get("username"), auth.get("password"))


def new_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """A client session with the endpoint's headers and authentication, writing request bodies with `to_json`."""
    auth = None
    if endpoint.basic_auth:
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
    return aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=auth,
        json_serialize=to_json,
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
    )


class SharedSessions:
    """One open client session per event loop and endpoint settings.

    Rasa uses a session as `async with endpoint.session() as session:`; `borrow` hands out the shared one for that,
    and leaving the `async with` leaves it open. The sessions of a loop that has closed are dropped."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[Any, ...], tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]] = {}

    def borrow(self, endpoint: EndpointConfig) -> _Borrowed:
        return _Borrowed(self, endpoint)

    def get(self, endpoint: EndpointConfig) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        key = (id(loop), *_settings(endpoint))
        owner, session = self._sessions.get(key, (None, None))
        if session is None or session.closed or owner is not loop:
            self._forget_closed_loops()
            session = new_session(endpoint)
            self._sessions[key] = (loop, session)
        return session

    def _forget_closed_loops(self) -> None:
        for key, (owner, session) in list(self._sessions.items()):
            if owner.is_closed():
                del self._sessions[key]
                session.detach()  # its loop is gone: nothing left to close

    async def close(self) -> None:
        """Close this loop's sessions (when the server stops)."""
        loop = asyncio.get_running_loop()
        for key, (owner, session) in list(self._sessions.items()):
            if owner is loop:
                del self._sessions[key]
                await session.close()


class _Borrowed:
    """`async with` gives the shared session and leaves it open."""

    def __init__(self, sessions: SharedSessions, endpoint: EndpointConfig) -> None:
        self._sessions, self._endpoint = sessions, endpoint

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._sessions.get(self._endpoint)

    async def __aexit__(self, *_exc: BaseException | None) -> None:
        return None


SESSIONS = SharedSessions()


def session(endpoint: EndpointConfig) -> _Borrowed:
    """Rasa's `EndpointConfig.session`, lending the endpoint's shared session."""
    return SESSIONS.borrow(endpoint)


def install() -> None:
    """Make Rasa's endpoints (the action server's among them) use the shared sessions of `SESSIONS`, closed with
    the rest of a worker's resources when it stops."""
    EndpointConfig.session = session  # type: ignore[assignment]
    close_rasa_resources = rasa.core.run.close_resources

    async def close_resources(app: Any, loop: asyncio.AbstractEventLoop) -> None:
        await close_rasa_resources(app, loop)
        await SESSIONS.close()

    rasa.core.run.close_resources = close_resources
