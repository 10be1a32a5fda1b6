"""Bearer-token checks for the staff API and for the Rasa action server."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend.config import Settings

logger = logging.getLogger(__name__)

Role = Literal["staff", "actions"]

_ENV_NAMES: dict[Role, str] = {"staff": "INTAKE_STAFF_TOKEN", "actions": "INTAKE_ACTIONS_TOKEN"}
_bearer = HTTPBearer(auto_error=False, description="INTAKE_STAFF_TOKEN or INTAKE_ACTIONS_TOKEN")


def _configured_tokens(settings: Settings, roles: tuple[Role, ...]) -> dict[Role, bytes]:
    """Return the tokens of `roles` that are set."""
    tokens = {"staff": settings.staff_token, "actions": settings.actions_token}
    return {role: token.encode() for role in roles if (token := tokens[role])}


def require_token(*roles: Role) -> Callable[..., Role]:
    """Return a dependency that admits a request bearing the token of one of `roles` and returns that role.

    When none of these tokens is configured the endpoint is disabled (503), so that it never runs open.
    """

    def check_token(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Role:
        settings: Settings = request.app.state.settings
        accepted = _configured_tokens(settings, roles)
        if not accepted:
            names = " or ".join(_ENV_NAMES[role] for role in roles)
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"This endpoint is disabled: set {names} to enable it."
            )
        if credentials is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="Missing bearer token: send 'Authorization: Bearer <token>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        given = credentials.credentials.encode()
        matched: Role | None = None
        for role, token in accepted.items():  # compare with every token, so timing says nothing about which
            if hmac.compare_digest(given, token):
                matched = role
        if matched is None:
            logger.warning("Refused a request to %s with a wrong bearer token", request.url.path)
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, detail="Invalid bearer token.", headers={"WWW-Authenticate": "Bearer"}
            )
        return matched

    return check_token


require_staff = require_token("staff")
require_case_writer = require_token("actions", "staff")
