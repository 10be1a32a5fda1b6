"""What the channels remember about a sender outside Rasa, in a small SQLite file that survives restarts.

- Opt-outs: a number that texted STOP gets nothing more until it texts START (kept for good).
- Offered options: the buttons of the bot's last reply, so that "2" (or a button's title) picks one.
- Attachments waiting for words: a photo sent alone is kept until the resident's next message carries it to Rasa.
- Reply addresses: which of the city's numbers a resident texted, so that a later message (a staff reply) comes
  from the same number.
- Deliveries: the ids of the platforms' deliveries (a Twilio MessageSid, a Telegram update_id) of the last two
  days, so that a delivery the platform retries is answered once, whichever Rasa worker receives it.
- Mailbox: messages for a web chat or REST conversation that came outside a turn (a reference the outbox
  delivered late, a staff reply), which nothing can push to a browser: kept, synced to disk, until the widget
  or client fetches them (at load, when it polls, or with the replies to its next message), then handed over once.

Options and waiting attachments expire with the conversation (an hour), opt-outs never. Each Rasa worker process
opens its own connection (stores/sqlite.py). Statements take microseconds and run in the event loop: commits are
written to the log and reach the disk at the next checkpoint, which survives a crash of the server. An opt-out
must survive a power cut too: it is synced to disk before the resident is answered, in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from stores.sqlite import SharedFile

DEFAULT_PATH = Path("var") / "channels.db"
# Matches Rasa's session expiry: options and waiting photos belong to the conversation they were sent in.
FORGET_AFTER_SECONDS = 3600
# Twilio and Telegram retry a delivery within minutes to hours; two days covers them with room to spare.
FORGET_DELIVERIES_AFTER_SECONDS = 2 * 24 * 3600
MAX_WAITING_ATTACHMENTS = 10

_SCHEMA = """
CREATE TABLE IF NOT EXISTS opt_outs (sender_id TEXT PRIMARY KEY, opted_out_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS offered_options (sender_id TEXT PRIMARY KEY, options TEXT NOT NULL, saved_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS reply_addresses (sender_id TEXT PRIMARY KEY, address TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS waiting_attachments (
    sender_id TEXT PRIMARY KEY, attachments TEXT NOT NULL, saved_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (delivery_id TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS mailbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sender_id TEXT NOT NULL, message TEXT NOT NULL, saved_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS mailbox_sender ON mailbox (sender_id, id);
CREATE INDEX IF NOT EXISTS deliveries_seen_at ON deliveries (seen_at);
"""


@dataclass(frozen=True)
class Option:
    """One button the bot offered: what the resident sees, and what Rasa receives when it is chosen."""

    title: str
    payload: str


class ChannelState:
    """Durable per-sender state of the channels, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = SharedFile(path, flush="NORMAL", schema=_SCHEMA, mode=0o600)  # phone numbers live here
        _ = self.file.db  # created now, so that a bad path fails at start

    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.file.lock:
            return self.file.db.execute(sql, params).fetchall()

    async def _call(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._run(sql, params)

    def _run_durably(self, sql: str, params: Sequence[Any]) -> None:
        with self.file.lock:
            db = self.file.db
            db.execute("PRAGMA synchronous=FULL")
            try:
                db.execute(sql, params)
            finally:
                db.execute(f"PRAGMA synchronous={self.file.flush}")

    async def opt_out(self, sender_id: str) -> None:
        """Record that this sender wants no more messages."""
        await asyncio.to_thread(
            self._run_durably, "INSERT OR IGNORE INTO opt_outs VALUES (?, ?)", (sender_id, time.time())
        )

    async def opt_in(self, sender_id: str) -> None:
        """Record that this sender wants messages again."""
        await asyncio.to_thread(self._run_durably, "DELETE FROM opt_outs WHERE sender_id = ?", (sender_id,))

    async def is_opted_out(self, sender_id: str) -> bool:
        """Say whether this sender has opted out."""
        return bool(await self._call("SELECT 1 FROM opt_outs WHERE sender_id = ?", (sender_id,)))

    async def offer_options(self, sender_id: str, options: Sequence[Option]) -> None:
        """Remember the options just offered to this sender (none: forget earlier ones)."""
        if not options:
            await self._call("DELETE FROM offered_options WHERE sender_id = ?", (sender_id,))
            return
        encoded = json.dumps([[o.title, o.payload] for o in options])
        await self._call("INSERT OR REPLACE INTO offered_options VALUES (?, ?, ?)", (sender_id, encoded, time.time()))

    async def offered_options(self, sender_id: str) -> list[Option]:
        """Return the options last offered to this sender, if they are still fresh."""
        rows = await self._call(
            "SELECT options FROM offered_options WHERE sender_id = ? AND saved_at > ?",
            (sender_id, time.time() - FORGET_AFTER_SECONDS),
        )
        return [Option(title, payload) for title, payload in json.loads(rows[0][0])] if rows else []

    async def keep_attachments(self, sender_id: str, attachments: Sequence[dict[str, str]]) -> None:
        """Add attachments that arrived without words, until the sender's next message carries them."""
        waiting = await self.take_attachments(sender_id)
        waiting = (waiting + list(attachments))[-MAX_WAITING_ATTACHMENTS:]
        await self._call(
            "INSERT OR REPLACE INTO waiting_attachments VALUES (?, ?, ?)", (sender_id, json.dumps(waiting), time.time())
        )

    async def take_attachments(self, sender_id: str) -> list[dict[str, str]]:
        """Return and forget the attachments waiting for this sender's words."""
        if not await self._call("SELECT 1 FROM waiting_attachments WHERE sender_id = ?", (sender_id,)):
            return []  # nearly every message: nothing to write
        # Taken in one statement, so that two messages arriving together cannot both carry the same photo.
        rows = await self._call(
            "DELETE FROM waiting_attachments WHERE sender_id = ? RETURNING attachments, saved_at", (sender_id,)
        )
        if not rows:
            return []
        attachments, saved_at = rows[0]
        return json.loads(attachments) if saved_at > time.time() - FORGET_AFTER_SECONDS else []

    async def first_delivery(self, delivery_id: str) -> bool:
        """Record a platform's delivery id and say whether it is new (False: a retry of a delivery already taken)."""
        now = time.time()
        await self._call("DELETE FROM deliveries WHERE seen_at < ?", (now - FORGET_DELIVERIES_AFTER_SECONDS,))
        rows = await self._call(
            "INSERT INTO deliveries VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING 1", (delivery_id, now)
        )
        return bool(rows)

    async def keep_for_later(self, sender_id: str, messages: Sequence[dict[str, Any]]) -> None:
        """Keep messages for a conversation that cannot be reached now, synced to disk before this returns."""

        def keep() -> None:
            with self.file.lock:
                db = self.file.db
                db.execute("PRAGMA synchronous=FULL")
                try:
                    with self.file.transaction() as tx:
                        tx.executemany(
                            "INSERT INTO mailbox (sender_id, message, saved_at) VALUES (?, ?, ?)",
                            [(sender_id, json.dumps(m), time.time()) for m in messages],
                        )
                finally:
                    db.execute(f"PRAGMA synchronous={self.file.flush}")

        await asyncio.to_thread(keep)

    async def take_kept(self, sender_id: str) -> list[dict[str, Any]]:
        """Return, oldest first, and forget the messages kept for this conversation (each is handed over once)."""
        if not await self._call("SELECT 1 FROM mailbox WHERE sender_id = ? LIMIT 1", (sender_id,)):
            return []  # nearly every turn: nothing to write
        with self.file.lock, self.file.transaction() as tx:
            rows = tx.execute(
                "SELECT id, message FROM mailbox WHERE sender_id = ? ORDER BY id", (sender_id,)
            ).fetchall()
            if rows:
                tx.execute("DELETE FROM mailbox WHERE sender_id = ? AND id <= ?", (sender_id, rows[-1][0]))
        return [json.loads(message) for _, message in rows]

    async def remember_reply_address(self, sender_id: str, address: str) -> None:
        """Record the address (e.g. the city's number) this sender last wrote to."""
        await self._call("INSERT OR REPLACE INTO reply_addresses VALUES (?, ?)", (sender_id, address))

    async def reply_address(self, sender_id: str) -> str | None:
        """Return the address this sender last wrote to, or None."""
        rows = await self._call("SELECT address FROM reply_addresses WHERE sender_id = ?", (sender_id,))
        return rows[0][0] if rows else None


@cache
def _open(path: str) -> ChannelState:
    return ChannelState(Path(path))


def shared_state(path: Path | None = None) -> ChannelState:
    """Return the one ChannelState for `path` (default: INTAKE_CHANNEL_STATE_PATH, else var/channels.db)."""
    chosen = path or Path(os.environ.get("INTAKE_CHANNEL_STATE_PATH") or DEFAULT_PATH)
    return _open(str(chosen.resolve()))
