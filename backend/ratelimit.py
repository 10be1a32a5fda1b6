"""Limit how often one client may call the public endpoints: a token bucket per client address, in memory."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_ADDRESSES = 10_000


class RateLimiter:
    """Allow `burst` requests at once per key, refilled at `per_minute` a minute (a token bucket).

    The buckets live in this process's memory, so each uvicorn worker counts on its own: a client whose requests
    are spread over N workers gets at most N times the limit. That is acceptable for what this guards (the public
    Open311 reads, which hold nothing secret: the limit stops scraping and floods, it is not an exact quota), and it
    costs no database write per read on a SQLite file that Rasa's tracker store writes too. What must count across
    workers (failed sign-ins) is counted in the database instead (backend.staff.throttle).

    At most `max_addresses` buckets are kept; the least recently used go first (that client starts afresh).
    """

    def __init__(
        self,
        *,
        per_minute: int,
        burst: int,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_minute / 60
        self.burst = max(1, burst)
        self.max_addresses = max_addresses
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key: (tokens, when counted)
        self._lock = threading.Lock()  # the Open311 views run in the thread pool

    def acquire(self, key: str) -> int:
        """Take one request from `key`'s bucket; return 0 when allowed, else how many seconds to wait."""
        if self.per_second <= 0:
            return 0  # switched off
        with self._lock:
            now = self.clock()
            tokens, counted = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - counted) * self.per_second)
            if tokens >= 1:
                tokens -= 1
                wait = 0
            else:
                wait = max(1, math.ceil((1 - tokens) / self.per_second))
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_addresses:
                self._buckets.popitem(last=False)
            return wait
