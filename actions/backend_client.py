"""The one place the action server talks to the backend, over HTTP."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)


class BackendUnavailable(Exception):
    """The backend could not be reached, or did not take the request this time: try again later.

    `status` is the HTTP status it answered with (None: no answer at all, so the backend is down or unreachable).
    """

    def __init__(self, cause: str, status: int | None = None) -> None:
        super().__init__(cause)
        self.status = status


class CaseRefused(Exception):
    """The backend refused the case itself as invalid (422): sending it again would not help.

    Only this ends a submission; `problems` lists where and why, without the values (the resident's words).
    Every other answer (401/403 after a rotated token, a proxy's 404/413/429, a 409, a 5xx) is BackendUnavailable.
    """

    def __init__(self, cause: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(cause)
        self.problems = problems or []


# The one answer that says the case itself is wrong. FastAPI answers a body that fails validation with 422.
PERMANENT_STATUSES = frozenset({422})


class InvalidReference(Exception):
    """The backend says the text is not a valid reference number (wrong shape or check character)."""


@dataclass(frozen=True)
class BackendSettings:
    """Where the backend is and how to authenticate to it."""

    base_url: str
    token: str
    timeout_seconds: float = 5.0
    attempts: int = 2

    @classmethod
    def from_env(cls) -> BackendSettings:
        """Read the settings from INTAKE_BACKEND_URL and INTAKE_ACTIONS_TOKEN."""
        return cls(
            base_url=os.environ.get("INTAKE_BACKEND_URL", "http://127.0.0.1:8000").rstrip("/"),
            token=os.environ.get("INTAKE_ACTIONS_TOKEN", ""),
            timeout_seconds=float(os.environ.get("INTAKE_BACKEND_TIMEOUT", "5")),
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def create_case(
    case: dict[str, Any],
    *,
    idempotency_key: str,
    settings: BackendSettings | None = None,
    attempts: int | None = None,
) -> dict[str, Any]:
    """Create a case and return the backend's record of it (with its `reference`).

    The same idempotency key always yields the same case, so a retry never makes a second one.

    Raises:
        CaseRefused: the backend refused the case as invalid (422); nothing else is permanent.
        BackendUnavailable: no answer, or any other refusal or error, after every attempt.
    """
    settings = settings or BackendSettings.from_env()
    headers = {**settings.headers, "Idempotency-Key": idempotency_key}
    timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)
    tries = attempts or settings.attempts
    last_error, last_status = "no attempt made", None
    for attempt in range(1, tries + 1):
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(f"{settings.base_url}/api/cases", json=case, headers=headers) as resp:
                    if resp.status in (200, 201):
                        return await resp.json()
                    last_error, last_status = f"HTTP {resp.status}", resp.status
                    if resp.status in PERMANENT_STATUSES:
                        raise CaseRefused(last_error, _problems(await _json_or_none(resp)))
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            last_error, last_status = type(error).__name__, None
        logger.warning("case submission attempt %s failed: %s", attempt, last_error)
        if attempt < tries:
            await asyncio.sleep(0.5 * attempt)
    raise BackendUnavailable(last_error, last_status)


async def _json_or_none(resp: aiohttp.ClientResponse) -> Any:
    try:
        return await resp.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return None


def _problems(body: Any) -> list[dict[str, Any]]:
    """Return a 422's field locations and messages, without the values it quotes (the resident's words)."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, list):
        return []
    found = []
    for item in detail[:20]:
        if isinstance(item, dict):
            location = [str(part)[:40] for part in item.get("loc") or [] if isinstance(part, (str, int))]
            found.append({"loc": location[:6], "msg": str(item.get("msg") or "")[:200]})
    return found


async def report_dead_letter(
    case: dict[str, Any],
    *,
    idempotency_key: str,
    problems: list[dict[str, Any]],
    settings: BackendSettings | None = None,
) -> None:
    """Hand a case the backend refused as invalid to staff (POST /api/dead-letters), so that it is never lost.

    The same key records it once. Raises BackendUnavailable when the backend did not take it.
    """
    settings = settings or BackendSettings.from_env()
    timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)
    body = {"idempotency_key": idempotency_key, "case": case, "problems": problems}
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(
                f"{settings.base_url}/api/dead-letters", json=body, headers=settings.headers
            ) as resp:
                if resp.status in (200, 201):
                    return
                raise BackendUnavailable(f"HTTP {resp.status}", resp.status)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise BackendUnavailable(type(error).__name__) from None


async def get_catalog(*, settings: BackendSettings | None = None) -> dict[str, Any]:
    """Return the division catalog (GET /api/catalog)."""
    settings = settings or BackendSettings.from_env()
    timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(f"{settings.base_url}/api/catalog") as resp:
                if resp.status != 200:
                    raise BackendUnavailable(f"HTTP {resp.status}")
                return await resp.json()
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise BackendUnavailable(type(error).__name__) from None


async def case_status(
    reference: str,
    *,
    sender_id: str,
    phone_last4: str | None = None,
    settings: BackendSettings | None = None,
) -> dict[str, Any] | None:
    """Return the status of a case the resident filed, or None when there is no such case for them.

    The backend answers only when `sender_id` is the conversation that filed the case, or `phone_last4` matches
    the phone number given with it; any other case looks exactly like a missing one.

    Raises:
        InvalidReference: the reference has the wrong shape or check character.
        BackendUnavailable: the backend could not be reached.
    """
    settings = settings or BackendSettings.from_env()
    timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)
    body: dict[str, Any] = {"reference": reference, "sender_id": sender_id}
    if phone_last4:
        body["phone_last4"] = phone_last4
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(
                f"{settings.base_url}/api/cases/status", json=body, headers=settings.headers
            ) as resp:
                if resp.status == 200:
                    return await resp.json()
                if resp.status == 404:
                    return None
                if resp.status in (400, 422):
                    raise InvalidReference(reference)
                raise BackendUnavailable(f"HTTP {resp.status}")
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise BackendUnavailable(type(error).__name__) from None
