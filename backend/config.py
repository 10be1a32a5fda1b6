"""Read the backend's settings from environment variables.

Environment variables (all optional):

``INTAKE_DATABASE_URL``
    SQLAlchemy URL of the case database. Default ``sqlite:///var/intake.db``: a SQLite file in ``var/`` under the
    current directory (the folder is created when needed; the backend makes the folder 0700 and the file 0600,
    readable by their owner only). PostgreSQL works too, e.g.
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
``INTAKE_OPEN311_READS_PER_MINUTE``, ``INTAKE_OPEN311_READ_BURST``
    How many public Open311 reads (GET) one client address may make a minute, and at once. Defaults 60 and 20;
    more get 429 with Retry-After. 0 a minute switches the limit off. Counted in each worker's memory
    (backend.ratelimit says why that is enough).
``INTAKE_TRUSTED_PROXIES``
    Comma-separated addresses or networks of the proxies in front of the backend (e.g. ``10.0.0.5`` or
    ``10.0.0.0/8``). Only a request from one of them has its client address taken from X-Forwarded-For, for the
    rate limits and the sign-in throttle. Unset: the address the connection comes from. (uvicorn rewrites that
    address itself from X-Forwarded-For when the peer is among its ``--forwarded-allow-ips``, by default the
    loopback address; this setting is for deployments that leave that to the backend.)
``INTAKE_SERVICE_LEVELS_PATH``
    Path of the service levels (YAML): time zone, public holidays and per-kind / per-division time limits in
    working days. Default: ``backend/service_levels.yml`` shipped with the backend.
``INTAKE_STAFF_SESSION_IDLE_MINUTES``
    A staff member is signed out after this many minutes without a request. Default 30.
``INTAKE_STAFF_SESSION_MAX_HOURS``
    ... and in any case this many hours after signing in. Default 10.
``INTAKE_STAFF_COOKIE_SECURE``
    ``1``: staff cookies are sent over HTTPS only; ``0``: also over plain HTTP. Unset: HTTPS-only whenever the
    request came over HTTPS (run uvicorn with ``--proxy-headers`` behind a TLS proxy).
``INTAKE_RASA_URL``
    Base URL of the Rasa server's HTTP API (e.g. ``http://127.0.0.1:5005``), through which staff replies go back
    to the resident on the channel they used. Unset: replies are refused with a clear message.
``INTAKE_RASA_TOKEN``
    The token Rasa was started with (``rasa run --enable-api --auth-token ...``).
``INTAKE_RASA_TIMEOUT``
    Seconds to wait for Rasa to accept a staff reply. Default 10.
``INTAKE_RASA_PUBLIC_URL``
    The Rasa server's address as residents' browsers reach it (e.g. ``https://chat.city.example``): the chat widget
    on the page at ``/`` talks to it. Unset: the widget uses the page's own host name, port 5005.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from backend.clients import IPNetwork, parse_networks

DEFAULT_DATABASE_URL = "sqlite:///var/intake.db"
DEFAULT_CATALOG_PATH = Path(__file__).resolve().parent / "catalog.yml"
DEFAULT_SERVICE_LEVELS_PATH = Path(__file__).resolve().parent / "service_levels.yml"


@dataclass(frozen=True)
class Settings:
    """Hold the backend's configuration; build it with `Settings.from_env`."""

    database_url: str = DEFAULT_DATABASE_URL
    tracker_database_url: str = DEFAULT_DATABASE_URL
    staff_token: str | None = field(default=None, repr=False)
    actions_token: str | None = field(default=None, repr=False)
    catalog_path: Path = DEFAULT_CATALOG_PATH
    open311_api_keys: tuple[str, ...] = field(default=(), repr=False)
    service_levels_path: Path = DEFAULT_SERVICE_LEVELS_PATH
    staff_session_idle_minutes: int = 30
    staff_session_max_hours: int = 10
    staff_cookie_secure: bool | None = None
    rasa_url: str | None = None
    rasa_token: str | None = field(default=None, repr=False)
    rasa_timeout_seconds: float = 10.0
    rasa_public_url: str | None = None
    open311_reads_per_minute: int = 60
    open311_read_burst: int = 20
    trusted_proxies: tuple[IPNetwork, ...] = ()

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
            service_levels_path=Path(levels)
            if (levels := _non_empty(env.get("INTAKE_SERVICE_LEVELS_PATH")))
            else DEFAULT_SERVICE_LEVELS_PATH,
            staff_session_idle_minutes=int(_non_empty(env.get("INTAKE_STAFF_SESSION_IDLE_MINUTES")) or 30),
            staff_session_max_hours=int(_non_empty(env.get("INTAKE_STAFF_SESSION_MAX_HOURS")) or 10),
            staff_cookie_secure=_flag(env.get("INTAKE_STAFF_COOKIE_SECURE")),
            rasa_url=(_non_empty(env.get("INTAKE_RASA_URL")) or "").rstrip("/") or None,
            rasa_token=_non_empty(env.get("INTAKE_RASA_TOKEN")),
            rasa_timeout_seconds=float(_non_empty(env.get("INTAKE_RASA_TIMEOUT")) or 10),
            rasa_public_url=(_non_empty(env.get("INTAKE_RASA_PUBLIC_URL")) or "").rstrip("/") or None,
            open311_reads_per_minute=int(_non_empty(env.get("INTAKE_OPEN311_READS_PER_MINUTE")) or 60),
            open311_read_burst=int(_non_empty(env.get("INTAKE_OPEN311_READ_BURST")) or 20),
            trusted_proxies=parse_networks(
                part for part in (env.get("INTAKE_TRUSTED_PROXIES") or "").split(",") if part.strip()
            ),
        )


def _non_empty(value: str | None) -> str | None:
    """Return the value stripped of surrounding blanks, or None when nothing is left."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _flag(value: str | None) -> bool | None:
    """Return True for 1/true/yes, False for 0/false/no, None when unset or blank."""
    value = _non_empty(value)
    if value is None:
        return None
    return value.lower() in ("1", "true", "yes", "on")
