"""Limits every channel shares: messages a minute per sender and requests a minute per client address.

Counted in memory, or, when `INTAKE_LIMITS_SQLITE_PATH` is set (scripts/stack.py sets it), in an SQLite file that all
of Rasa's workers on the machine share, so that a limit holds however many workers take the messages.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from stores.sqlite import SharedFile

DEFAULT_PER_MINUTE = 20
# Requests a minute from one client address. Behind nginx, Rasa learns the address from X-Forwarded-For
# (SANIC_PROXIES_COUNT=1); many residents can share one address (a library, a mobile carrier), hence the headroom.
DEFAULT_PER_ADDRESS_PER_MINUTE = 300


class Verdict(str, Enum):
    """What to do with a sender's next message."""

    ALLOW = "allow"
    WARN = "warn"  # the first message over the limit: answer once, politely
    DROP = "drop"  # further messages over the limit: stay silent, so a flood costs nothing


class RateLimiter:
    """Allow each sender at most `limit` messages in any `window` seconds, in memory."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._warned: dict[str, float] = {}

    @classmethod
    def from_env(cls, variable: str = "INTAKE_RATE_LIMIT_PER_MINUTE", default: int = DEFAULT_PER_MINUTE) -> RateLimiter:
        """Return a limiter with INTAKE_RATE_LIMIT_PER_MINUTE (or `variable`) messages a minute (default 20)."""
        value = os.environ.get(variable, "").strip()
        limit = int(value) if value else default
        shared = os.environ.get("INTAKE_LIMITS_SQLITE_PATH", "").strip()
        return SharedRateLimiter(limit, Path(shared), scope=variable) if shared else cls(limit)

    @classmethod
    def per_address_from_env(cls) -> RateLimiter:
        """Return a limiter of requests per client address: INTAKE_RATE_LIMIT_PER_IP_PER_MINUTE (default 300)."""
        return cls.from_env("INTAKE_RATE_LIMIT_PER_IP_PER_MINUTE", DEFAULT_PER_ADDRESS_PER_MINUTE)

    def check(self, sender: str) -> Verdict:
        """Count one message from `sender` and say whether to handle it."""
        now = self._clock()
        self._forget_idle(now)
        times = self._seen.setdefault(sender, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._warned.pop(sender, None)
            return Verdict.ALLOW
        if sender in self._warned:
            return Verdict.DROP
        self._warned[sender] = now
        return Verdict.WARN

    def _forget_idle(self, now: float) -> None:
        # Keeps memory bounded by the senders of the last window, however many there were before.
        if len(self._seen) < 1024:
            return
        for sender in [s for s, times in self._seen.items() if not times or times[-1] <= now - self.window]:
            del self._seen[sender]
            self._warned.pop(sender, None)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS hits (scope TEXT NOT NULL, sender TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_by_sender ON hits (scope, sender, at);
CREATE TABLE IF NOT EXISTS warned (scope TEXT NOT NULL, sender TEXT NOT NULL, at REAL NOT NULL,
                                   PRIMARY KEY (scope, sender));
"""


class SharedRateLimiter(RateLimiter):
    """The same limit, counted in an SQLite file that several processes (Rasa's workers) share.

    Counts only matter for a minute, so changes are not flushed to disk; each check is one transaction, so two
    workers cannot both let through the message that reaches the limit.
    """

    def __init__(
        self, limit: int, path: Path, *, scope: str = "", window: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        # The wall clock, not the monotonic one: the file may outlive a reboot, when the monotonic clock restarts.
        super().__init__(limit, window, clock)
        self.file = SharedFile(path, flush="OFF", schema=_SCHEMA)
        self.scope = scope  # limiters with different scopes keep separate counts in one file
        self._checks = 0

    def check(self, sender: str) -> Verdict:
        """Count one message from `sender` and say whether to handle it, in one transaction."""
        now = self._clock()
        with self.file.transaction() as db:
            return self._check(db, sender, now)

    def _check(self, db: sqlite3.Connection, sender: str, now: float) -> Verdict:
        key = (self.scope, sender)
        self._checks += 1
        if self._checks % 1000 == 0:  # senders who went quiet: keeps the file small
            db.execute("DELETE FROM hits WHERE at <= ?", (now - self.window,))
            db.execute("DELETE FROM warned WHERE at <= ?", (now - self.window,))
        db.execute("DELETE FROM hits WHERE scope = ? AND sender = ? AND at <= ?", (*key, now - self.window))
        (count,) = db.execute("SELECT count(*) FROM hits WHERE scope = ? AND sender = ?", key).fetchone()
        if count < self.limit:
            db.execute("INSERT INTO hits VALUES (?, ?, ?)", (*key, now))
            db.execute("DELETE FROM warned WHERE scope = ? AND sender = ?", key)
            return Verdict.ALLOW
        if db.execute("SELECT 1 FROM warned WHERE scope = ? AND sender = ?", key).fetchone():
            return Verdict.DROP
        db.execute("INSERT INTO warned VALUES (?, ?, ?)", (*key, now))
        return Verdict.WARN


def client_address(request: Any) -> str:
    """Return a Sanic request's client address: as the proxy in front saw it when one is trusted, else the peer's."""
    return str(request.remote_addr or request.ip or "")
