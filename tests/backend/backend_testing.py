"""Constants and small factories shared by the backend tests."""

from __future__ import annotations

from typing import Any

import pytest

STAFF_TOKEN = "staff-token-for-tests"
ACTIONS_TOKEN = "actions-token-for-tests"
OPEN311_API_KEY = "open311-key-for-tests"
# Run a test on SQLite and on PostgreSQL (the `database_kind` fixture in conftest.py).
both_databases = pytest.mark.parametrize("database_kind", ["sqlite", "postgresql"], indirect=True)

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
ACTIONS = {"Authorization": f"Bearer {ACTIONS_TOKEN}"}


def case_body(**changes: Any) -> dict[str, Any]:
    """Return a valid body for POST /api/cases with `changes` applied (a value of ... removes the field)."""
    body: dict[str, Any] = {
        "kind": "service_request",
        "description": "The garbage wasn't picked up on my street this morning.",
        "location": "12 Elm St",
        "channel": "rest",
        "sender_id": "conversation-1",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}
