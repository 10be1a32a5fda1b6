"""Deliver a reply through a platform's API, retrying what is worth retrying with growing pauses.

Failures are logged by channel, attempt and cause only: never the resident's number, chat or words.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try, and how long to wait between tries (doubling from `first_delay`, at most `max_delay`)."""

    attempts: int = 4
    first_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int) -> float:
        """Return the pause after failed attempt number `attempt` (1-based)."""
        return min(self.max_delay, self.first_delay * 2 ** (attempt - 1))


@dataclass(frozen=True)
class Failure:
    """What a channel makes of an error: a cause safe to log, and whether (and after how long) to retry."""

    cause: str
    retry: bool
    wait: float | None = None  # the platform's own "retry after", when it gave one
    code: int | None = None  # the platform's error code, when it gave one


async def deliver(
    send: Callable[[], Awaitable[T]],
    *,
    channel: str,
    policy: RetryPolicy,
    classify: Callable[[BaseException], Failure],
) -> tuple[bool, Failure | None]:
    """Call `send` until it succeeds or a failure is not worth retrying; return (delivered, last failure)."""
    for attempt in range(1, policy.attempts + 1):
        try:
            await send()
            return True, None
        except asyncio.CancelledError:
            raise
        except Exception as error:  # each platform raises its own errors; `classify` sorts them
            failure = classify(error)
        if not failure.retry or attempt == policy.attempts:
            logger.warning("%s reply not delivered after %d attempt(s): %s", channel, attempt, failure.cause)
            return False, failure
        pause = failure.wait if failure.wait is not None else policy.delay(attempt)
        logger.info(
            "%s reply failed (attempt %d of %d): %s; retrying in %.1f s",
            channel,
            attempt,
            policy.attempts,
            failure.cause,
            pause,
        )
        await asyncio.sleep(pause)
    return False, None
