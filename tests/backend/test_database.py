"""The schema, its migrations, and the SQLite settings that let Rasa share the file."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from backend_testing import ACTIONS, both_databases, case_body
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from backend.cases.models import Case
from backend.database import core, migrate
from backend.database.core import create_db_engine
from backend.models import metadata

# The cases table's indexes (name: unique) at the latest revision: lookups, and keyset paging of the staff list.
CASE_INDEXES = {
    "ix_cases_reference": True,
    "ix_cases_sender_id": False,
    "ix_cases_due_at": False,
    **{
        name: False
        for name in (
            "ix_cases_created_at_id",
            "ix_cases_division_created_at",
            "ix_cases_status_created_at",
            "ix_cases_kind_created_at",
            "ix_cases_service_code_created_at",
            "ix_cases_channel_created_at",
            "ix_cases_assignee_id_created_at",
        )
    },
}


@both_databases
def test_migrations_match_the_models_and_ignore_rasas_table(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)"))
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": migrate.include_object, "compare_type": True}
        )
        assert compare_metadata(context, metadata) == []


def test_upgrade_and_downgrade_leave_foreign_tables_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'fresh.db'}"
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY)"))
        migrate.upgrade(url)
        assert {"cases", "events", "alembic_version"} <= set(inspect(engine).get_table_names())
        indexes = {index["name"]: bool(index["unique"]) for index in inspect(engine).get_indexes("cases")}
        assert indexes == CASE_INDEXES
        command.downgrade(migrate.alembic_config(engine=engine), "base")
        assert "cases" not in inspect(engine).get_table_names()
        assert "events" in inspect(engine).get_table_names()
        migrate.upgrade(url)  # and back up again
        assert "cases" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)
def test_postgresql_migrations_go_down_and_up_and_leave_foreign_tables_alone(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY)"))
    command.downgrade(migrate.alembic_config(engine=engine), "base")
    assert "cases" not in inspect(engine).get_table_names()
    assert "events" in inspect(engine).get_table_names()
    migrate.upgrade(engine.url.render_as_string(hide_password=False))
    assert {"cases", "events", "alembic_version"} <= set(inspect(engine).get_table_names())
    indexes = {index["name"]: bool(index["unique"]) for index in inspect(engine).get_indexes("cases")}
    # PostgreSQL also reports the index behind the idempotency key's unique constraint.
    assert indexes == {**CASE_INDEXES, "uq_cases_idempotency_key": True}


def test_manage_migrate_uses_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backend import manage

    url = f"sqlite:///{tmp_path / 'managed.db'}"
    monkeypatch.setenv("INTAKE_DATABASE_URL", url)
    assert manage.main(["migrate"]) == 0
    engine = create_db_engine(url)
    try:
        assert "cases" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def modes(folder: Path) -> dict[str, int]:
    """Return the permission bits of everything in `folder`, by path relative to it."""
    return {str(path.relative_to(folder)): stat.S_IMODE(path.stat().st_mode) for path in folder.rglob("*")}


def test_the_database_folder_and_files_are_readable_by_their_owner_only(
    tmp_path: Path, make_app: Callable[..., FastAPI]
) -> None:
    var = tmp_path / "var"
    url = f"sqlite:///{var / 'intake.db'}"
    previous = os.umask(0)  # the most open umask: the modes must not depend on it
    try:
        migrate.upgrade(url)
        app = make_app(database_url=url, tracker_database_url=url)
        assert TestClient(app).post("/api/cases", json=case_body(), headers=ACTIONS).status_code == 201
        # While the app's connections are open, SQLite keeps its write-ahead log and shared memory files.
        created = modes(var)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert set(created) == {"intake.db", "intake.db-wal", "intake.db-shm"}
    assert created == dict.fromkeys(created, 0o600)


def test_an_existing_database_loses_group_and_other_permissions(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    database = shared / "intake.db"
    sqlite3.connect(database).close()
    for path in (database, shared / "intake.db-wal", shared / "notes.txt"):
        path.touch()
        os.chmod(path, 0o644)
    engine = create_db_engine(f"sqlite:///{database}")
    engine.dispose()
    # The database and its companion lose their open permissions; the folder and other files are not its own.
    assert modes(shared) == {"intake.db": 0o600, "intake.db-wal": 0o600, "notes.txt": 0o644}
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755


def test_sqlite_connections_use_wal_and_a_busy_timeout(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_a_write_waits_for_another_process_lock(
    client: TestClient, migrated: str, count_cases: Callable[[], int]
) -> None:
    """While another writer (like Rasa's tracker store) holds the lock briefly, creating a case waits, then works."""
    path = migrated.removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE events (id INTEGER PRIMARY KEY)")
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    try:
        started = time.monotonic()
        response = client.post("/api/cases", json=case_body(), headers=ACTIONS)
        waited = time.monotonic() - started
    finally:
        release.join()
        other.close()
    assert response.status_code == 201
    assert waited >= 0.3
    assert count_cases() == 1


@both_databases
def test_datetimes_are_stored_and_read_as_utc(engine: Engine, client: TestClient) -> None:
    reference = client.post("/api/cases", json=case_body(), headers=ACTIONS).json()["reference"]
    with Session(engine) as session:
        case = session.query(Case).filter_by(reference=reference).one()
        assert case.created_at.tzinfo is timezone.utc
        case.created_at = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc).astimezone()
        session.commit()
        session.refresh(case)
        assert case.created_at == datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
        case.created_at = datetime(2026, 5, 1, 12, 0)
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()


def test_a_lock_held_too_long_answers_503_and_writes_nothing(
    make_app: Callable[..., FastAPI], migrated: str, monkeypatch: pytest.MonkeyPatch, count_cases: Callable[[], int]
) -> None:
    monkeypatch.setattr(core, "SQLITE_BUSY_TIMEOUT_MS", 100)
    client = TestClient(make_app())
    other = sqlite3.connect(migrated.removeprefix("sqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        response = client.post("/api/cases", json=case_body(), headers=ACTIONS)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert "retry" in response.json()["detail"]
    assert count_cases() == 0
