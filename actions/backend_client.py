"""The one place the action server talks to the backend, over HTTP."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from typing import Any, Dict, Optional

import aiohttp

logger = logging.getLogger(__name__)


class BackendUnavailable(Exception):
    """The backend could not be reached, or did not accept the request."""


class CaseRefused(BackendUnavailable):
    """The backend answered and refused the case (a 4xx): sending it again would not help."""


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
    def from_env(cls) -> "BackendSettings":
        """Read the settings from INTAKE_BACKEND_URL and INTAKE_ACTIONS_TOKEN."""
        return cls(
            base_url=os.environ.get("INTAKE_BACKEND_URL", "http://127.0.0.1:8000").rstrip("/"),
            token=os.environ.get("INTAKE_ACTIONS_TOKEN", ""),
            timeout_seconds=float(os.environ.get("INTAKE_BACKEND_TIMEOUT", "5")),
        )

    @property
    def headers(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def create_case(
    case: Dict[str, Any],
    *,
    idempotency_key: str,
    settings: Optional[BackendSettings] = None,
    attempts: Optional[int] = None,
) -> Dict[str, Any]:
    """Create a case and return the backend's record of it (with its `reference`).

    The same idempotency key always yields the same case, so a retry never makes a second one.

    Raises:
        CaseRefused: the backend answered with a 4xx.
        BackendUnavailable: no answer, or a server error, after every attempt.
    """
    settings = settings or BackendSettings.from_env()
    headers = {**settings.headers, "Idempotency-Key": idempotency_key}
    timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)
    tries = attempts or settings.attempts
    last_error = "no attempt made"
    for attempt in range(1, tries + 1):
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(f"{settings.base_url}/api/cases", json=case, headers=headers) as resp:
                    if resp.status in (200, 201):
                        return await resp.json()
                    last_error = f"HTTP {resp.status}"
                    if resp.status < 500:
                        raise CaseRefused(last_error)  # the backend refused this case; repeating it would not help
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            last_error = type(error).__name__
        logger.warning("case submission attempt %s failed: %s", attempt, last_error)
        if attempt < tries:
            await asyncio.sleep(0.5 * attempt)
    raise BackendUnavailable(last_error)


async def get_catalog(*, settings: Optional[BackendSettings] = None) -> Dict[str, Any]:
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
    phone_last4: Optional[str] = None,
    settings: Optional[BackendSettings] = None,
) -> Optional[Dict[str, Any]]:
    """Return the status of a case the resident filed, or None when there is no such case for them.

    The backend answers only when `sender_id` is the conversation that filed the case, or `phone_last4` matches
    the phone number given with it; any other case looks exactly like a missing one.

    Raises:
        InvalidReference: the reference has the wrong shape or check character.
        BackendUnavailable: the backend could not be reached.
    """
    settings = settings or BackendSettings.from_env()
    timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)
    body: Dict[str, Any] = {"reference": reference, "sender_id": sender_id}
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
