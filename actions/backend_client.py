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
    """The backend could not be reached, or did not accept the case."""


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


async def create_case(
    case: Dict[str, Any], *, idempotency_key: str, settings: Optional[BackendSettings] = None
) -> Dict[str, Any]:
    """Create a case and return the backend's record of it (with its `reference`).

    The same idempotency key always yields the same case, so a retry never makes a second one.
    """
    settings = settings or BackendSettings.from_env()
    headers = {"Authorization": f"Bearer {settings.token}", "Idempotency-Key": idempotency_key}
    timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)
    last_error = "no attempt made"
    for attempt in range(1, settings.attempts + 1):
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(f"{settings.base_url}/api/cases", json=case, headers=headers) as resp:
                    if resp.status in (200, 201):
                        return await resp.json()
                    last_error = f"HTTP {resp.status}"
                    if resp.status < 500:
                        break  # the backend refused this case; repeating it would not help
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            last_error = type(error).__name__
        logger.warning("case submission attempt %s failed: %s", attempt, last_error)
        if attempt < settings.attempts:
            await asyncio.sleep(0.5 * attempt)
    raise BackendUnavailable(last_error)
