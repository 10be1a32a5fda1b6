"""A durable outbox for cases the backend could not take: kept in a SQLite file, delivered when it is back.

When a submission fails after its retries, the case is written here with its idempotency key before the resident
is told, so nothing they said is lost if the action server stops. A background thread delivers waiting cases
with the same key (so a case the backend did record after all is not made twice) and then has Rasa tell the
resident their reference number, through Rasa's HTTP API (`EXTERNAL_case_delivered`, the reference in the
`delivered_reference` entity, so that whichever action server Rasa calls can say it) when it is configured.
The resident can also ask for it: the status look-up checks here first.

What the backend answers decides what happens to an entry (actions/backend_client.py): only a validation refusal
(422) is permanent, and the case then goes to the backend's dead-letter list, which staff see; any other refusal
or error is tried again later, with growing pauses for that entry alone, so that one refused case never holds up
the cases behind it.

An entry is marked told only when the resident's channel took the notice: Rasa answers 200 without handing the
messages back, which means a text message or Telegram message was sent (channels/turn.py `PushOutput` fails the
call otherwise), or the notice waits in the web chat's mailbox until the resident's widget or REST client fetches
it (channels/rest.py).

Settings: INTAKE_OUTBOX_PATH (default var/outbox.db), INTAKE_OUTBOX_INTERVAL (seconds between delivery rounds,
default 5), INTAKE_RASA_URL and INTAKE_RASA_TOKEN (Rasa's HTTP API, to tell the resident).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import yarl

from actions import backend_client

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DELIVERED_INTENT = "EXTERNAL_case_delivered"
REFERENCE_ENTITY = "delivered_reference"
# Rasa's web server does not percent-decode the conversation id in the path: "sms:+1416..." must go as it is, and
# only characters that would break the URL are encoded (as backend/staff/replies.py does).
PATH_SAFE = "/:@+!$&'()*,;="
# Channels whose conversations can take a notice outside a turn: pushed (sms, telegram) or kept for the web chat
# widget and REST clients to fetch (web, rest). Anything else waits for the resident to ask (the status answer).
NOTIFIABLE_CHANNELS = frozenset({"sms", "telegram", "web", "rest"})
FIRST_PAUSE_SECONDS = 5.0
MAX_PAUSE_SECONDS = 3600.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    idempotency_key TEXT PRIMARY KEY,
    sender_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    case_json TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    reference TEXT,
    delivered_at REAL,
    notified_at REAL,
    next_attempt_at REAL,
    refused_json TEXT,
    dead_lettered_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_sender ON outbox (sender_id);
"""
# Columns added after the first release, added to an older file when it is opened.
_LATER_COLUMNS = {"next_attempt_at": "REAL", "refused_json": "TEXT", "dead_lettered_at": "REAL"}


def pause_after(attempts: int) -> float:
    """Return how long an entry waits after its `attempts`-th failure: doubling from 5 s, at most an hour."""
    return min(MAX_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Entry:
    """One case waiting in the outbox, or delivered and not yet told to the resident."""

    idempotency_key: str
    sender_id: str
    kind: str
    case: dict[str, Any]
    reference: str | None
    problems: list[dict[str, Any]] | None = None  # why the backend refused it as invalid, when it did


def default_path() -> Path:
    """Return the outbox file: INTAKE_OUTBOX_PATH, or var/outbox.db in the project."""
    return Path(os.environ.get("INTAKE_OUTBOX_PATH") or ROOT / "var" / "outbox.db")


class Outbox:
    """The outbox table in one SQLite file (standard library only; safe to use from several threads)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)
            present = {row["name"] for row in db.execute("PRAGMA table_info(outbox)")}
            for column, kind in _LATER_COLUMNS.items():
                if column not in present:
                    db.execute(f"ALTER TABLE outbox ADD COLUMN {column} {kind}")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # a case is on disk before the resident is told it is kept
        db.row_factory = sqlite3.Row
        return db

    def put(self, case: dict[str, Any], *, idempotency_key: str) -> None:
        """Keep a case for later delivery (a second put with the same key changes nothing)."""
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR IGNORE INTO outbox (idempotency_key, sender_id, kind, case_json, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (idempotency_key, case["sender_id"], case["kind"], json.dumps(case), time.time()),
            )

    def waiting(self, limit: int = 50, *, due_only: bool = False) -> list[Entry]:
        """Return cases not yet delivered nor refused, oldest first (`due_only`: those whose pause is over)."""
        due = " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)" if due_only else ""
        params = (time.time(), limit) if due_only else (limit,)
        with closing(self._connect()) as db:
            rows = db.execute(
                f"SELECT * FROM outbox WHERE delivered_at IS NULL AND refused_json IS NULL{due} "
                "ORDER BY created_at LIMIT ?",
                params,
            ).fetchall()
        return [_entry(row) for row in rows]

    def untold(self, *, due_only: bool = False) -> list[Entry]:
        """Return delivered cases whose reference the resident has not been told yet (`due_only`: pause over)."""
        due = " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)" if due_only else ""
        with closing(self._connect()) as db:
            rows = db.execute(
                f"SELECT * FROM outbox WHERE delivered_at IS NOT NULL AND notified_at IS NULL{due} ORDER BY created_at",
                (time.time(),) if due_only else (),
            ).fetchall()
        return [_entry(row) for row in rows]

    def refused(self) -> list[Entry]:
        """Return cases the backend refused as invalid that are not yet on its dead-letter list."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT * FROM outbox WHERE refused_json IS NOT NULL AND dead_lettered_at IS NULL ORDER BY created_at"
            ).fetchall()
        return [_entry(row) for row in rows]

    def for_sender(self, sender_id: str) -> list[Entry]:
        """Return this conversation's cases that are waiting, or delivered and not yet told (refused ones are
        with staff)."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT * FROM outbox WHERE sender_id = ? AND notified_at IS NULL AND refused_json IS NULL "
                "ORDER BY created_at",
                (sender_id,),
            ).fetchall()
        return [_entry(row) for row in rows]

    def mark_delivered(self, idempotency_key: str, reference: str) -> None:
        """Record the reference the backend gave the case (the notice to the resident may go at once)."""
        with closing(self._connect()) as db, db:
            db.execute(
                "UPDATE outbox SET reference = ?, delivered_at = ?, last_error = NULL, attempts = 0, "
                "next_attempt_at = NULL WHERE idempotency_key = ?",
                (reference, time.time(), idempotency_key),
            )

    def mark_failed(self, idempotency_key: str, error: str, *, pause: bool = True) -> None:
        """Count a failed attempt (to deliver the case, or to tell the resident); with `pause`, this entry waits
        before its next attempt, longer after each failure, while the others go on."""
        with closing(self._connect()) as db, db:
            row = db.execute("SELECT attempts FROM outbox WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            attempts = (row["attempts"] if row else 0) + 1
            next_at = time.time() + pause_after(attempts) if pause else None
            db.execute(
                "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE idempotency_key = ?",
                (attempts, error[:200], next_at, idempotency_key),
            )

    def mark_refused(self, idempotency_key: str, problems: list[dict[str, Any]]) -> None:
        """Record that the backend refused the case as invalid: it is for staff now (the dead-letter list)."""
        with closing(self._connect()) as db, db:
            db.execute(
                "UPDATE outbox SET refused_json = ?, last_error = 'refused as invalid' WHERE idempotency_key = ?",
                (json.dumps(problems), idempotency_key),
            )

    def mark_dead_lettered(self, idempotency_key: str) -> None:
        """Record that the refused case is on the backend's dead-letter list, where staff see it."""
        with closing(self._connect()) as db, db:
            db.execute(
                "UPDATE outbox SET dead_lettered_at = ? WHERE idempotency_key = ?", (time.time(), idempotency_key)
            )

    def mark_told(self, idempotency_key: str) -> None:
        """Record that the resident has been told the reference."""
        with closing(self._connect()) as db, db:
            db.execute("UPDATE outbox SET notified_at = ? WHERE idempotency_key = ?", (time.time(), idempotency_key))

    def counts(self) -> dict[str, int]:
        """Return how many cases wait, and how many were delivered but not yet told (for logs and tests)."""
        with closing(self._connect()) as db:
            waiting = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND refused_json IS NULL"
            ).fetchone()[0]
            untold = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NOT NULL AND notified_at IS NULL"
            ).fetchone()[0]
            refused = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE refused_json IS NOT NULL AND dead_lettered_at IS NULL"
            ).fetchone()[0]
        return {"waiting": waiting, "untold": untold, "refused": refused}


def _entry(row: sqlite3.Row) -> Entry:
    problems = json.loads(row["refused_json"]) if row["refused_json"] else None
    return Entry(
        row["idempotency_key"], row["sender_id"], row["kind"], json.loads(row["case_json"]), row["reference"], problems
    )


async def deliver(outbox: Outbox, settings: backend_client.BackendSettings | None = None) -> int:
    """Send every waiting case whose pause is over once; return how many the backend took.

    No answer at all ends the round (the backend is down); any other failure pauses that entry alone.
    """
    delivered = 0
    for entry in outbox.waiting(due_only=True):
        try:
            created = await backend_client.create_case(
                entry.case, idempotency_key=entry.idempotency_key, settings=settings, attempts=1
            )
        except backend_client.CaseRefused as error:
            # Invalid as it is: staff get it on the dead-letter list; it is logged without the resident's words.
            logger.error("outbox case %s refused by the backend as invalid: %s", entry.idempotency_key[:8], error)
            outbox.mark_refused(entry.idempotency_key, error.problems)
            continue
        except backend_client.BackendUnavailable as error:
            outbox.mark_failed(entry.idempotency_key, str(error), pause=error.status is not None)
            if error.status is None:
                break  # the backend is not answering: try again next round
            logger.warning("outbox case %s not taken (%s); tried again later", entry.idempotency_key[:8], error)
            continue
        outbox.mark_delivered(entry.idempotency_key, created["reference"])
        logger.info("outbox delivered a %s case as %s", entry.kind, created["reference"])
        delivered += 1
    return delivered


async def hand_refused_to_staff(outbox: Outbox, settings: backend_client.BackendSettings | None = None) -> int:
    """Put every case the backend refused as invalid on its dead-letter list; return how many went."""
    handed = 0
    for entry in outbox.refused():
        try:
            await backend_client.report_dead_letter(
                entry.case, idempotency_key=entry.idempotency_key, problems=entry.problems or [], settings=settings
            )
        except backend_client.BackendUnavailable as error:
            logger.warning("a refused case could not be handed to staff yet: %s", error)
            break
        outbox.mark_dead_lettered(entry.idempotency_key)
        handed += 1
    return handed


def conversation_url(rasa_url: str, sender_id: str, endpoint: str) -> str:
    """Return the URL of one of Rasa's conversation endpoints for this conversation id, as Rasa reads it."""
    return f"{rasa_url.rstrip('/')}/conversations/{quote(sender_id, safe=PATH_SAFE)}/{endpoint}"


async def tell_residents(outbox: Outbox, rasa_url: str, token: str) -> int:
    """Ask Rasa to tell each resident the reference of their delivered case; return how many were told.

    An entry is marked told only when the resident's channel took the notice (see the module's docstring); any
    other answer pauses that entry and the others go on.
    """
    told = 0
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for entry in outbox.untold(due_only=True):
            if entry.case.get("channel") not in NOTIFIABLE_CHANNELS:
                continue  # nothing can reach this conversation: the status answer tells it when they ask
            url = (
                f"{conversation_url(rasa_url, entry.sender_id, 'trigger_intent')}"
                f"?output_channel=latest&token={quote(token, safe='')}"
            )
            body = {"name": DELIVERED_INTENT, "entities": {REFERENCE_ENTITY: entry.reference}}
            try:
                async with session.post(yarl.URL(url, encoded=True), json=body) as resp:
                    answer = await resp.json(content_type=None) if resp.status == 200 else None
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                logger.warning("Rasa could not be reached to tell a resident: %s", type(error).__name__)
                break
            if answer is None:
                # e.g. the text message or Telegram message could not be sent: Rasa kept nothing of the attempt.
                logger.warning("the delivery notice did not reach the resident: HTTP %s", resp.status)
                outbox.mark_failed(entry.idempotency_key, f"notice: HTTP {resp.status}")
                continue
            if not isinstance(answer, dict) or "messages" in answer:
                # Rasa handed the messages back: no channel of this conversation took them.
                logger.warning("the delivery notice found no channel to reach the resident")
                outbox.mark_failed(entry.idempotency_key, "notice: no channel took it")
                continue
            outbox.mark_told(entry.idempotency_key)
            told += 1
    return told


class DeliveryWorker:
    """A daemon thread that delivers the outbox every few seconds, and tells residents their references."""

    def __init__(self, outbox: Outbox, interval: float = 5.0) -> None:
        self.outbox = outbox
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-delivery", daemon=True)

    def start(self) -> DeliveryWorker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        rasa_url = os.environ.get("INTAKE_RASA_URL", "")
        token = os.environ.get("INTAKE_RASA_TOKEN", "")
        while not self._stop.is_set():
            try:
                if self.outbox.waiting(limit=1, due_only=True):
                    await deliver(self.outbox)
                if self.outbox.refused():
                    await hand_refused_to_staff(self.outbox)
                if rasa_url and token and self.outbox.untold(due_only=True):
                    await tell_residents(self.outbox, rasa_url, token)
            except Exception:  # the worker must outlive any one bad round; the next round tries again
                logger.exception("outbox delivery round failed")
            await asyncio.sleep(self.interval)


_shared: dict[str, Any] = {"outbox": None, "worker": None}
_lock = threading.Lock()


def _autostart() -> bool:
    """Say whether the delivery thread should run (INTAKE_OUTBOX_AUTOSTART=0 turns it off, e.g. in tests)."""
    return os.environ.get("INTAKE_OUTBOX_AUTOSTART", "1") != "0"


def shared() -> Outbox:
    """Return the action server's outbox, starting its delivery thread the first time."""
    with _lock:
        if _shared["outbox"] is None or _shared["outbox"].path != default_path():
            _shared["outbox"] = Outbox()
        if _autostart() and _shared["worker"] is None:
            interval = float(os.environ.get("INTAKE_OUTBOX_INTERVAL", "5"))
            _shared["worker"] = DeliveryWorker(_shared["outbox"], interval).start()
        return _shared["outbox"]


# The action server imports this package when it starts: with the outbox configured (scripts/stack.py sets it),
# cases left waiting by an earlier run are delivered without waiting for the next resident.
if os.environ.get("INTAKE_OUTBOX_PATH") and _autostart():
    shared()
