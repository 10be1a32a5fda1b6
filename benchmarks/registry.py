"""Measure case creation through the real backend under 50 concurrent writers, beside a plain INSERT loop.

    .venvs/backend/bin/python benchmarks/registry.py [--seconds 10] [--writers 50] [--postgres URL]
    scripts/with_postgres.sh .venvs/backend/bin/python benchmarks/registry.py

For each database (a fresh SQLite file; and PostgreSQL when ``--postgres`` or ``INTAKE_TEST_POSTGRES_URL`` is
given, in a new database created on that server and dropped afterwards) it starts uvicorn on 127.0.0.1 on a free
port, lets every writer thread POST cases with its own HTTP client for the set time, then checks the database:
duplicate references and lost cases (acknowledged with 201 but not stored) must both be 0. The ceiling is a plain
SQLAlchemy Core INSERT loop on one connection, one commit per row, for the same time. Prints figures; it is a
benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend import references  # noqa: E402
from backend.cases.models import Case  # noqa: E402
from backend.database import migrate  # noqa: E402
from backend.database.core import create_db_engine  # noqa: E402
from backend.database.types import utcnow  # noqa: E402

STARTUP_TIMEOUT = 30.0
REQUEST_TIMEOUT = 10.0


@dataclass
class Result:
    """What one run measured."""

    database: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    errors: int = 0
    duplicates: int = 0
    lost: int = 0
    stored: int = 0
    ceiling: float = 0.0


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fresh_postgres(url: str) -> Iterator[str]:
    """Yield the URL of a new database on the server at `url`, and drop it afterwards."""
    name = f"intake_bench_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def backend_server(database_url: str, token: str) -> Iterator[str]:
    """Start uvicorn with the backend on a free localhost port; yield its base URL and stop it afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "INTAKE_DATABASE_URL": database_url,
        "INTAKE_TRACKER_DATABASE_URL": database_url,
        "INTAKE_ACTIONS_TOKEN": token,
        "INTAKE_STAFF_TOKEN": token,
    }
    command = [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with status {process.returncode}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start in time")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_writers(base: str, token: str, writers: int, seconds: float, result: Result) -> None:
    """Let `writers` threads create cases for `seconds`, each with its own HTTP client."""
    lock = threading.Lock()
    start = threading.Barrier(writers + 1)
    stop_at: list[float] = []

    def writer(number: int) -> None:
        latencies: list[float] = []
        acknowledged: list[str] = []
        errors = 0
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT, headers=headers) as client:
            start.wait()
            sequence = 0
            while time.monotonic() < stop_at[0]:
                sequence += 1
                body = {
                    "kind": ("complaint", "compliment", "service_request")[sequence % 3],
                    "description": f"Benchmark case {sequence} from writer {number}.",
                    "location": "100 Queen St W",
                    "channel": "rest",
                    "sender_id": f"bench-{number}",
                }
                key = {"Idempotency-Key": f"bench-{number}-{sequence}"}
                began = time.perf_counter()
                try:
                    response = client.post("/api/cases", json=body, headers=key)
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - began)
                if response.status_code == 201:
                    acknowledged.append(response.json()["reference"])
                else:
                    errors += 1
        with lock:
            result.latencies.extend(latencies)
            result.acknowledged.extend(acknowledged)
            result.errors += errors

    threads = [threading.Thread(target=writer, args=(number,), daemon=True) for number in range(writers)]
    for thread in threads:
        thread.start()
    stop_at.append(time.monotonic() + seconds)
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 5)
    result.seconds = time.monotonic() - began


def check_database(database_url: str, result: Result) -> None:
    """Count duplicate and lost references against what the database holds."""
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = list(connection.scalars(select(Case.reference)))
    finally:
        engine.dispose()
    result.stored = len(stored)
    stored_set = set(stored)
    result.duplicates = (len(result.acknowledged) - len(set(result.acknowledged))) + (len(stored) - len(stored_set))
    result.lost = sum(1 for reference in set(result.acknowledged) if reference not in stored_set)


def insert_ceiling(database_url: str, seconds: float) -> float:
    """Return rows per second of a plain INSERT loop on one connection, one commit per row."""
    engine = create_db_engine(database_url)
    table = Case.__table__
    rows = 0
    try:
        with engine.connect() as connection:
            stop_at = time.monotonic() + seconds
            began = time.monotonic()
            while time.monotonic() < stop_at:
                now = utcnow()
                connection.execute(
                    insert(table).values(
                        reference=references.generate("complaint"),
                        kind="complaint",
                        status="new",
                        description="Ceiling row.",
                        location="100 Queen St W",
                        channel="rest",
                        sender_id="ceiling",
                        details={},
                        created_at=now,
                        updated_at=now,
                    )
                )
                connection.commit()
                rows += 1
            elapsed = time.monotonic() - began
    finally:
        engine.dispose()
    return rows / elapsed


def bench(name: str, database_url: str, writers: int, seconds: float) -> Result:
    """Run the HTTP writers and the INSERT ceiling on the (empty) database at `database_url`."""
    result = Result(database=name)
    migrate.upgrade(database_url)
    token = secrets.token_urlsafe(16)
    with backend_server(database_url, token) as base:
        run_writers(base, token, writers, seconds, result)
    check_database(database_url, result)
    result.ceiling = insert_ceiling(database_url, seconds)
    return result


def percentile(values: list[float], fraction: float) -> float:
    """Return the `fraction` percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def print_table(results: list[Result], writers: int) -> None:
    """Print one row per database."""
    header = (
        f"{'database':<11} {'writers':>7} {'cases/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6} "
        f"{'acked':>6} {'stored':>6} {'dup refs':>8} {'lost':>4} {'INSERT/s (1 conn)':>17}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        rate = len(r.acknowledged) / r.seconds if r.seconds else 0.0
        print(
            f"{r.database:<11} {writers:>7} {rate:>8.1f} {percentile(r.latencies, 0.5) * 1000:>7.1f} "
            f"{percentile(r.latencies, 0.95) * 1000:>7.1f} {r.errors:>6} {len(r.acknowledged):>6} {r.stored:>6} "
            f"{r.duplicates:>8} {r.lost:>4} {r.ceiling:>17.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and return 1 when a reference was duplicated or an acknowledged case lost."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run (default 10)")
    parser.add_argument("--writers", type=int, default=50, help="concurrent writer threads (default 50)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("INTAKE_TEST_POSTGRES_URL") or None,
        help="SQLAlchemy URL of a PostgreSQL server to use too (default: INTAKE_TEST_POSTGRES_URL)",
    )
    args = parser.parse_args(argv)
    if args.postgres and make_url(args.postgres).host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--postgres must point at localhost")
    results = []
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as folder:
        results.append(bench("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", args.writers, args.seconds))
    if args.postgres:
        with fresh_postgres(args.postgres) as url:
            results.append(bench("postgresql", url, args.writers, args.seconds))
    print_table(results, args.writers)
    return 1 if any(r.duplicates or r.lost for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
