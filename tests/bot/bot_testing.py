"""Shared helpers for the bot environment's tests: real trackers and a local stand-in for the backend's case API."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parents[2]


# GSM 03.38 basic character set: what a text message carries at 160 characters per segment.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
TWO_SEGMENTS = 2 * 153  # a message longer than 160 characters is sent in parts of 153


def syllables(word: str) -> int:
    word = word.lower()
    groups = re.findall(r"[aeiouy]+", word)
    count = len(groups) - (1 if word.endswith("e") and len(groups) > 1 and not word.endswith("le") else 0)
    return max(1, count)


def english_part(text: str) -> str:
    """Return the sentences of a message without accented letters (a bilingual message's French is not graded)."""
    return " ".join(s for s in re.split(r"(?<=[.!?\n])\s+", text) if s.isascii())


def grade_level(text: str) -> float:
    """Return the Flesch-Kincaid grade of the text; each line of a list counts as a sentence, as it is read as one."""
    text = english_part(text.replace("\n", ".\n"))
    sentences = max(1, len(re.findall(r"[.!?]+(?:\s|$)", text)))
    words = re.findall(r"[A-Za-z']+", text)
    if not words:
        return 0.0
    return 0.39 * len(words) / sentences + 11.8 * sum(syllables(w) for w in words) / len(words) - 15.59


def plain_language_problems(text: str) -> list[str]:
    """Return what makes a message unfit for a resident: too long for two texts, not GSM-7, too hard, two questions."""
    problems = []
    if len(text) > TWO_SEGMENTS:
        problems.append(f"{len(text)} characters")
    if not set(text) <= GSM7:
        problems.append(f"characters outside GSM-7: {set(text) - GSM7}")
    if grade_level(text) > 8.0:
        problems.append(f"grade {grade_level(text):.1f}")
    if text.count("?") > 1:
        problems.append("more than one question")
    return problems


def make_tracker(
    *,
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "complaint",
    entities: list[dict[str, Any]] | None = None,
    channel: str = "rest",
    sender_id: str = "resident-1",
    timestamp: float = 1732450000.0,
    active_loop: str | None = None,
    candidates: dict[str, Any] | None = None,
    ranking: list[dict[str, Any]] | None = None,
) -> Tracker:
    """Return a real rasa-sdk Tracker whose latest message is `text`, classified as `intent`.

    `candidates` are slot values just extracted from that message, placed after the form's turn as Rasa does
    when it calls a form's validation action; they are part of the tracker's slots too. `ranking` is the
    classifier's intent ranking of the message, as Rasa's parse gives it.
    """
    latest: dict[str, Any] = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    if ranking is not None:
        latest["intent_ranking"] = ranking
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "timestamp": timestamp, "parse_data": latest, "input_channel": channel},
    ]
    all_slots = dict(slots or {})
    if candidates is not None:
        events.append({"event": "action", "name": active_loop or "report_form"})
        events += [{"event": "slot", "name": name, "value": value} for name, value in candidates.items()]
        all_slots.update(candidates)
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def catalog_json() -> dict[str, Any]:
    """Return the catalog as GET /api/catalog serves it (read from backend/catalog.yml, the same file)."""
    return yaml.safe_load((ROOT / "backend" / "catalog.yml").read_text())


class FakeBackend:
    """A local HTTP server speaking the backend's case API: one case per idempotency key, the catalog, status."""

    def __init__(
        self, status: int = 201, mistyped: Iterable[str] = (), time_limits: dict[str, int] | None = None
    ) -> None:
        self.status = status
        self.mistyped = set(mistyped)  # references the backend calls invalid (a wrong check character)
        self.time_limits = time_limits or {}  # acknowledge_days and respond_days, as the backend's service levels say
        self.requests: list[dict[str, Any]] = []
        self.references: dict[str, str] = {}
        self.cases: dict[str, dict[str, Any]] = {}
        self.dead_letters: dict[str, dict[str, Any]] = {}  # POST /api/dead-letters, by idempotency key
        self.statuses: list[int] = []  # answers for the next case requests, in order, before `status`
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _create_case(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        status = self.statuses.pop(0) if self.statuses else self.status
        if status == 422:
            problem = {
                "type": "value_error",
                "loc": ["body", "details"],
                "msg": "must be at most 8192 bytes as JSON",
                "input": body.get("details"),
            }
            return web.json_response({"detail": [problem]}, status=422)
        if status >= 400:
            return web.json_response({"detail": "refused"}, status=status)
        key = request.headers.get("Idempotency-Key", "")
        created = key not in self.references
        reference = self.references.setdefault(key, f"S-ABCDE{len(self.references) + 2}X")
        self.cases.setdefault(reference, {"reference": reference, **body, "status": "new"})
        return web.json_response({**self.cases[reference], **self.time_limits}, status=201 if created else 200)

    async def _catalog(self, request: web.Request) -> web.Response:
        return web.json_response(catalog_json())

    async def _status(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        reference = body["reference"]
        if reference in self.mistyped:
            return web.json_response({"detail": "This is not a valid reference number."}, status=400)
        case = self.cases.get(reference)
        phone = ((case or {}).get("details") or {}).get("contact", {}).get("phone") or ""
        if case and (case["sender_id"] == body["sender_id"] or (phone and phone[-4:] == body.get("phone_last4"))):
            return web.json_response({k: case[k] for k in ("reference", "kind", "status")} | {"division": None})
        return web.json_response({"detail": "No case with this reference was filed by you."}, status=404)

    async def _dead_letter(self, request: web.Request) -> web.Response:
        body = await request.json()
        created = body["idempotency_key"] not in self.dead_letters
        self.dead_letters.setdefault(body["idempotency_key"], body)
        return web.json_response({"id": len(self.dead_letters)}, status=201 if created else 200)

    async def __aenter__(self) -> FakeBackend:
        app = web.Application()
        app.router.add_post("/api/dead-letters", self._dead_letter)
        app.router.add_post("/api/cases", self._create_case)
        app.router.add_get("/api/catalog", self._catalog)
        app.router.add_post("/api/cases/status", self._status)
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
