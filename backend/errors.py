"""Turn bad requests and database trouble into clear JSON answers that never echo the resident's text back."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2


def problem(loc: tuple[str | int, ...], msg: str, type_: str = "value_error") -> dict[str, Any]:
    """Return one validation problem in the shape FastAPI uses (``loc``, ``msg``, ``type``)."""
    return {"loc": list(loc), "msg": msg, "type": type_}


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Answer 422 with where and what is wrong, leaving out the offending input."""
    problems = []
    for error in exc.errors():
        msg = str(error.get("msg", "Invalid value"))
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error")
            msg = f"Malformed JSON: {reason}" if reason else "Malformed JSON"
        problems.append(problem(tuple(error.get("loc", ())), msg, str(error.get("type", "value_error"))))
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": problems})


async def _database_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
    """Answer 503 when the database is locked too long or unreachable, so that clients retry later."""
    # The statement's parameters hold what the resident wrote: log only the driver's own message.
    logger.error("Database unavailable during %s %s: %s", request.method, request.url.path, exc.orig)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": "The case database is busy or unavailable. Please retry shortly."},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the backend's exception handlers on `app`."""
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, _database_unavailable)  # type: ignore[arg-type]
