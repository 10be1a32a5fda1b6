"""Hash and check staff passwords with Argon2id (argon2-cffi), and say plainly when a new password is too weak."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256

# argon2-cffi's defaults follow RFC 9106's recommended low-memory profile (Argon2id, 64 MiB, 3 passes).
_hasher = PasswordHasher()


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
