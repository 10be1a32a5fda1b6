"""Shared helpers for the bot environment's tests: real trackers and a local stand-in for the backend's case API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from aiohttp import web
from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def make_tracker(
    *,
    slots: Optional[Dict[str, Any]] = None,
    text: str = "",
    intent: str = "complaint",
    entities: Optional[List[Dict[str, Any]]] = None,
    channel: str = "rest",
    sender_id: str = "resident-1",
    timestamp: float = 1732450000.0,
) -> Tracker:
    """Return a real rasa-sdk Tracker whose latest message is `text`, classified as `intent`."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "timestamp": timestamp, "parse_data": latest, "input_channel": channel},
    ]
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


class FakeBackend:
    """A local HTTP server speaking the backend's `POST /api/cases`; one case per idempotency key."""

    def __init__(self, status: int = 201) -> None:
        self.status = status
        self.requests: List[Dict[str, Any]] = []
        self.references: Dict[str, str] = {}
        self._runner: Optional[web.AppRunner] = None
        self.url = ""

    async def _create_case(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        if self.status >= 400:
            return web.json_response({"detail": "refused"}, status=self.status)
        key = request.headers.get("Idempotency-Key", "")
        reference = self.references.setdefault(key, f"S-ABCDE{len(self.references) + 2}X")
        return web.json_response({"reference": reference, **body, "status": "new"}, status=self.status)

    async def __aenter__(self) -> "FakeBackend":
        app = web.Application()
        app.router.add_post("/api/cases", self._create_case)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
