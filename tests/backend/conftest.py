"""Shared fixtures of the backend tests: one real database per test session, emptied after each test.

Every test runs on a SQLite file. Tests marked `both_databases` (see `backend_testing`) run on PostgreSQL too, at
``INTAKE_TEST_POSTGRES_URL`` (``scripts/with_postgres.sh`` starts a throwaway server and sets it). Without that
variable their PostgreSQL variants are skipped, or fail when ``CI`` is set: CI must not pass on SQLite alone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from backend_testing import ACTIONS_TOKEN, OPEN311_API_KEY, STAFF_TOKEN

# Settings for anything that builds the app from the environment (e.g. importing backend.main). Set before any
# backend import, so that no test ever touches var/intake.db.
_TMP = Path(tempfile.mkdtemp(prefix="intake-backend-tests-"))
POSTGRES_URL = os.environ.get("INTAKE_TEST_POSTGRES_URL", "").strip()
DATABASE_URL = f"sqlite:///{_TMP / 'intake.db'}"
os.environ.update(
    {
        "INTAKE_DATABASE_URL": DATABASE_URL,
        "INTAKE_TRACKER_DATABASE_URL": DATABASE_URL,
        "INTAKE_STAFF_TOKEN": STAFF_TOKEN,
        "INTAKE_ACTIONS_TOKEN": ACTIONS_TOKEN,
        # Keep Hypothesis' caches out of the working tree.
        "HYPOTHESIS_STORAGE_DIRECTORY": str(_TMP / "hypothesis"),
    }
)
os.environ.pop("INTAKE_CATALOG_PATH", None)

with warnings.catch_warnings():
    # Starlette 1.x asks for the httpx2 package in its test client; httpx (pinned in the lock file) still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from fastapi import FastAPI  # noqa: E402
from sqlalchemy import Engine, func, select, text  # noqa: E402

from backend.cases.models import Case  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.database import migrate  # noqa: E402
from backend.database.core import create_db_engine  # noqa: E402
from backend.main import create_app  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _temporary_folder() -> Iterator[Path]:
    """Remove the session's database folder at the end."""
    yield _TMP
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def database_kind(request: pytest.FixtureRequest) -> str:
    """Return which database the test runs on: ``sqlite`` unless parametrized (`both_databases`)."""
    kind: str = getattr(request, "param", "sqlite")
    if kind == "postgresql" and not POSTGRES_URL:
        reason = "INTAKE_TEST_POSTGRES_URL is not set: run the tests under scripts/with_postgres.sh"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the PostgreSQL tests must run)", pytrace=False)
        pytest.skip(reason)
    return kind


@pytest.fixture(scope="session")
def database_url(database_kind: str) -> str:
    """Return the URL of the session's database of this kind."""
    return POSTGRES_URL if database_kind == "postgresql" else DATABASE_URL


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Return the settings of the test app."""
    return Settings(
        database_url=database_url,
        tracker_database_url=database_url,
        staff_token=STAFF_TOKEN,
        actions_token=ACTIONS_TOKEN,
        open311_api_keys=("another-key", OPEN311_API_KEY),
        # The tests read the public feed far more often than one client may (test_rate_limits.py tests the limit).
        open311_reads_per_minute=0,
    )


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> str:
    """Migrate the session's database once and return its URL."""
    migrate.upgrade(settings.database_url)
    return settings.database_url


@pytest.fixture(scope="session")
def app(settings: Settings, migrated: str) -> Iterator[FastAPI]:
    """Return the app shared by the tests."""
    application = create_app(settings)
    yield application
    application.state.database.dispose()


@pytest.fixture
def engine(app: FastAPI) -> Engine:
    """Return the app's database engine."""
    database_engine: Engine = app.state.database.engine
    return database_engine


@pytest.fixture(scope="session")
def _maintenance_engine(migrated: str) -> Iterator[Engine]:
    """Return an engine of its own for emptying the database between tests."""
    engine = create_db_engine(migrated)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _empty_database(_maintenance_engine: Engine) -> Iterator[None]:
    """Leave the database as the migration made it after each test: no cases, no tracker events."""
    yield
    with _maintenance_engine.begin() as connection:
        connection.execute(text("DELETE FROM cases"))
        connection.execute(text("DROP TABLE IF EXISTS events"))


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """Return a test client of the shared app."""
    return TestClient(app)


@pytest.fixture
def make_app(settings: Settings, migrated: str) -> Iterator[Callable[..., FastAPI]]:
    """Return a factory of apps whose settings differ from the shared app's by the given fields."""
    made: list[FastAPI] = []

    def make(**changes: Any) -> FastAPI:
        values = {**settings.__dict__, **changes}
        application = create_app(Settings(**values))
        made.append(application)
        return application

    yield make
    for application in made:
        application.state.database.dispose()


@pytest.fixture
def count_cases(engine: Engine) -> Callable[[], int]:
    """Return a function that counts the stored cases."""

    def count() -> int:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Case.__table__)) or 0)

    return count
