"""Read the backend's settings from environment variables.

Environment variables (all optional):

``INTAKE_DATABASE_URL``
    SQLAlchemy URL of the case database. Default ``sqlite:///var/intake.db``: a SQLite file in ``var/`` under the
    current directory (the folder is created when needed). PostgreSQL works too, e.g.
    ``postgresql+psycopg://intake:secret@db/intake`` (needs the psycopg package).
``INTAKE_TRACKER_DATABASE_URL``
    SQLAlchemy URL of the database where Rasa's SQL tracker store keeps its ``events`` table. The backend only
    reads it, to show staff the conversation behind a case. Default: the same as ``INTAKE_DATABASE_URL``.
``INTAKE_STAFF_TOKEN``
    Bearer token for the staff API (reading and listing cases; it may also create cases). When unset or empty,
    the staff endpoints answer every request with 503: the backend never runs open.
``INTAKE_ACTIONS_TOKEN``
    Bearer token the Rasa action server uses to create cases (``POST /api/cases``). When neither this nor
    ``INTAKE_STAFF_TOKEN`` is set, case creation answers 503.
``INTAKE_CATALOG_PATH``
    Path of the division catalog (YAML). Default: ``backend/catalog.yml`` shipped with the backend. A relative
    path is read from the current directory.
``INTAKE_OPEN311_API_KEYS``
    Comma-separated API keys that may create requests through Open311 (``POST /open311/v2/requests.json``).
    When unset or empty, every Open311 POST is refused with 403; the read-only Open311 endpoints stay open.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///var/intake.db"
DEFAULT_CATALOG_PATH = Path(__file__).resolve().parent / "catalog.yml"


@dataclass(frozen=True)
class Settings:
    """Hold the backend's configuration; build it with `Settings.from_env`."""

    database_url: str = DEFAULT_DATABASE_URL
    tracker_database_url: str = DEFAULT_DATABASE_URL
    staff_token: str | None = field(default=None, repr=False)
    actions_token: str | None = field(default=None, repr=False)
    catalog_path: Path = DEFAULT_CATALOG_PATH
    open311_api_keys: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Return settings read from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        database_url = _non_empty(env.get("INTAKE_DATABASE_URL")) or DEFAULT_DATABASE_URL
        catalog = _non_empty(env.get("INTAKE_CATALOG_PATH"))
        return cls(
            database_url=database_url,
            tracker_database_url=_non_empty(env.get("INTAKE_TRACKER_DATABASE_URL")) or database_url,
            staff_token=_non_empty(env.get("INTAKE_STAFF_TOKEN")),
            actions_token=_non_empty(env.get("INTAKE_ACTIONS_TOKEN")),
            catalog_path=Path(catalog) if catalog else DEFAULT_CATALOG_PATH,
            open311_api_keys=tuple(
                key for part in (env.get("INTAKE_OPEN311_API_KEYS") or "").split(",") if (key := part.strip())
            ),
        )


def _non_empty(value: str | None) -> str | None:
    """Return the value stripped of surrounding blanks, or None when nothing is left."""
    if value is None:
        return None
    value = value.strip()
    return value or None
