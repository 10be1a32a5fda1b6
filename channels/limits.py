"""Limits every channel shares: messages a minute per sender and requests a minute per client address."""

from __future__ import annotations

import os
import time
from collections import deque
from enum import Enum
from typing import Any, Callable, Deque, Dict

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
        self._seen: Dict[str, Deque[float]] = {}
        self._warned: Dict[str, float] = {}

    @classmethod
    def from_env(cls, variable: str = "INTAKE_RATE_LIMIT_PER_MINUTE", default: int = DEFAULT_PER_MINUTE
                 ) -> "RateLimiter":
        """Return a limiter with INTAKE_RATE_LIMIT_PER_MINUTE (or `variable`) messages a minute (default 20)."""
        value = os.environ.get(variable, "").strip()
        return cls(int(value) if value else default)

    @classmethod
    def per_address_from_env(cls) -> "RateLimiter":
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


def client_address(request: Any) -> str:
    """Return a Sanic request's client address: as the proxy in front saw it when one is trusted, else the peer's."""
    return str(request.remote_addr or request.ip or "")
