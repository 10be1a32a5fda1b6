"""A durable outbox for cases the backend could not take: kept in a SQLite file, delivered when it is back.

When a submission fails after its retries, the case is written here with its idempotency key before the resident
is told, so nothing they said is lost if the action server stops. A background thread delivers waiting cases
with the same key (so a case the backend did record after all is not made twice) and then has Rasa tell the
resident their reference number, through Rasa's HTTP API (`EXTERNAL_case_delivered`) when it is configured.
The resident can also ask for it: the status look-up checks here first.

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
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp

from actions import backend_client

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DELIVERED_INTENT = "EXTERNAL_case_delivered"
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
    notified_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_sender ON outbox (sender_id);
"""


@dataclass(frozen=True)
class Entry:
    """One case waiting in the outbox, or delivered and not yet told to the resident."""

    idempotency_key: str
    sender_id: str
    kind: str
    case: Dict[str, Any]
    reference: Optional[str]


def default_path() -> Path:
    """Return the outbox file: INTAKE_OUTBOX_PATH, or var/outbox.db in the project."""
    return Path(os.environ.get("INTAKE_OUTBOX_PATH") or ROOT / "var" / "outbox.db")


class Outbox:
    """The outbox table in one SQLite file (standard library only; safe to use from several threads)."""

    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # a case is on disk before the resident is told it is kept
        db.row_factory = sqlite3.Row
        return db

    def put(self, case: Dict[str, Any], *, idempotency_key: str) -> None:
        """Keep a case for later delivery (a second put with the same key changes nothing)."""
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR IGNORE INTO outbox (idempotency_key, sender_id, kind, case_json, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (idempotency_key, case["sender_id"], case["kind"], json.dumps(case), time.time()),
            )

    def waiting(self, limit: int = 50) -> List[Entry]:
        """Return cases not yet delivered, oldest first."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT * FROM outbox WHERE delivered_at IS NULL ORDER BY created_at LIMIT ?", (limit,)
            ).fetchall()
        return [_entry(row) for row in rows]

    def untold(self) -> List[Entry]:
        """Return delivered cases whose reference the resident has not been told yet."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT * FROM outbox WHERE delivered_at IS NOT NULL AND notified_at IS NULL ORDER BY created_at"
            ).fetchall()
        return [_entry(row) for row in rows]

    def for_sender(self, sender_id: str) -> List[Entry]:
        """Return this conversation's cases that are waiting, or delivered and not yet told."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT * FROM outbox WHERE sender_id = ? AND notified_at IS NULL ORDER BY created_at", (sender_id,)
            ).fetchall()
        return [_entry(row) for row in rows]

    def mark_delivered(self, idempotency_key: str, reference: str) -> None:
        """Record the reference the backend gave the case."""
        with closing(self._connect()) as db, db:
            db.execute(
                "UPDATE outbox SET reference = ?, delivered_at = ?, last_error = NULL WHERE idempotency_key = ?",
                (reference, time.time(), idempotency_key),
            )

    def mark_failed(self, idempotency_key: str, error: str) -> None:
        """Count a failed delivery attempt."""
        with closing(self._connect()) as db, db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE idempotency_key = ?",
                (error[:200], idempotency_key),
            )

    def mark_told(self, idempotency_key: str) -> None:
        """Record that the resident has been told the reference."""
        with closing(self._connect()) as db, db:
            db.execute("UPDATE outbox SET notified_at = ? WHERE idempotency_key = ?", (time.time(), idempotency_key))

    def counts(self) -> Dict[str, int]:
        """Return how many cases wait, and how many were delivered but not yet told (for logs and tests)."""
        with closing(self._connect()) as db:
            waiting = db.execute("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL").fetchone()[0]
            untold = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NOT NULL AND notified_at IS NULL"
            ).fetchone()[0]
        return {"waiting": waiting, "untold": untold}


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(row["idempotency_key"], row["sender_id"], row["kind"], json.loads(row["case_json"]), row["reference"])


async def deliver(outbox: Outbox, settings: Optional[backend_client.BackendSettings] = None) -> int:
    """Send every waiting case once; return how many the backend took."""
    delivered = 0
    for entry in outbox.waiting():
        try:
            created = await backend_client.create_case(
                entry.case, idempotency_key=entry.idempotency_key, settings=settings, attempts=1
            )
        except backend_client.CaseRefused as error:
            # Kept, not dropped: staff can read it in the file; it is logged without the resident's words.
            logger.error("outbox case %s refused by the backend: %s", entry.idempotency_key[:8], error)
            outbox.mark_failed(entry.idempotency_key, f"refused: {error}")
            continue
        except backend_client.BackendUnavailable as error:
            outbox.mark_failed(entry.idempotency_key, str(error))
            break  # the backend is still down: try again next round
        outbox.mark_delivered(entry.idempotency_key, created["reference"])
        logger.info("outbox delivered a %s case as %s", entry.kind, created["reference"])
        delivered += 1
    return delivered


async def tell_residents(outbox: Outbox, rasa_url: str, token: str) -> int:
    """Ask Rasa to tell each resident the reference of their delivered case; return how many were told."""
    told = 0
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for entry in outbox.untold():
            url = (
                f"{rasa_url.rstrip('/')}/conversations/{quote(entry.sender_id, safe='')}/trigger_intent"
                f"?output_channel=latest&token={quote(token, safe='')}"
            )
            try:
                async with session.post(url, json={"name": DELIVERED_INTENT, "entities": {}}) as resp:
                    if resp.status != 200:
                        logger.warning("Rasa did not take the delivery notice: HTTP %s", resp.status)
                        continue
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                logger.warning("Rasa could not be reached to tell a resident: %s", type(error).__name__)
                break
            # action_tell_delivered has told the resident by now; marking it here too means a notice Rasa took
            # but could not act on is not sent again every few seconds.
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

    def start(self) -> "DeliveryWorker":
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
                if self.outbox.waiting(limit=1):
                    await deliver(self.outbox)
                if rasa_url and token and self.outbox.untold():
                    await tell_residents(self.outbox, rasa_url, token)
            except Exception:  # the worker must outlive any one bad round; the next round tries again
                logger.exception("outbox delivery round failed")
            await asyncio.sleep(self.interval)


_shared: Dict[str, Any] = {"outbox": None, "worker": None}
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
