"""Hash and check staff passwords with Argon2id (argon2-cffi), and say plainly when a new password is too weak."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256
# A check takes tens of milliseconds of CPU and 64 MiB: a few at a time, and a bounded queue behind them.
CHECKING_THREADS = 2
MAX_WAITING_CHECKS = 32

# argon2-cffi's defaults follow RFC 9106's recommended low-memory profile (Argon2id, 64 MiB, 3 passes).
_hasher = PasswordHasher()

T = TypeVar("T")


class Busy(Exception):
    """Too many password checks are waiting already: the client should try again shortly."""


class _Checks:
    """Run password checks on threads of their own, at most MAX_WAITING_CHECKS queued or running.

    Not on the event loop, which every request shares, and not in the thread pool of the synchronous routes
    (/api/cases among them): a flood of sign-ins then delays only sign-ins.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=CHECKING_THREADS, thread_name_prefix="password-check")
        self._lock = threading.Lock()
        self._waiting = 0

    async def run(self, check: Callable[[], T]) -> T:
        """Return what `check` returns, run on a checking thread; raise `Busy` when the queue is full."""
        with self._lock:
            if self._waiting >= MAX_WAITING_CHECKS:
                raise Busy()
            self._waiting += 1
        try:
            return await asyncio.wrap_future(self._executor.submit(check))
        finally:
            with self._lock:
                self._waiting -= 1


_checks = _Checks()


async def off_the_loop(check: Callable[[], T]) -> T:
    """Run `check`, a function that checks a password (and may use the database), away from the event loop.

    Raises:
        Busy: too many checks are waiting already.
    """
    return await _checks.run(check)


def hash_password(password: str) -> str:
    """Return the Argon2id hash of `password` (salted; the encoded string holds its own parameters)."""
    return _hasher.hash(password)


def verify(password_hash: str, password: str) -> bool:
    """Return True when `password` matches `password_hash`."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Return True when the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def burn_time(password: str) -> None:
    """Spend as long as a real check, so that an unknown email takes as long to refuse as a wrong password."""
    verify(_dummy_hash(), password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not a real password, only here to take time")


def weakness(password: str, *, email: str = "") -> str | None:
    """Return why `password` may not be used, in plain words, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters for the password."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters for the password."
    if password.strip() != password:
        return "The password must not start or end with a space."
    if len(set(password)) < 5:
        return "The password repeats too few different characters."
    local = email.split("@")[0].casefold()
    if local and len(local) >= 4 and local in password.casefold():
        return "The password must not contain your email name."
    return None
