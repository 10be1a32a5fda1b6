"""Measure the staff case list at 100,000 cases: query and whole-page times, on SQLite and PostgreSQL.

    .venvs/backend/bin/python benchmarks/staff_list.py [--cases 100000] [--repeat 30] [--postgres URL]
    scripts/with_postgres.sh .venvs/backend/bin/python benchmarks/staff_list.py

For each database (a fresh SQLite file; and PostgreSQL when ``--postgres`` or ``INTAKE_TEST_POSTGRES_URL`` is given,
in a new database created on that server and dropped afterwards) it migrates the schema, seeds the cases (two years
of complaints, compliments and service requests across the catalog's divisions, most closed, some overdue), then
times each list scenario `--repeat` times: the query alone (one page by keyset plus the capped count) and the whole
page through the app (session check, query, HTML); then the analytics page over 12 weeks and over two years (fewer
runs). Prints p50 and p95 in milliseconds; a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Importing backend.main builds a default app: keep it off var/intake.db and quiet about unset tokens.
os.environ.update({"INTAKE_DATABASE_URL": "sqlite://", "INTAKE_STAFF_TOKEN": "-", "INTAKE_ACTIONS_TOKEN": "-"})
sys.path.insert(0, str(ROOT / "benchmarks"))

from registry import fresh_postgres  # noqa: E402

from backend import references  # noqa: E402
from backend.cases import search  # noqa: E402
from backend.cases.enums import CaseKind, CaseStatus  # noqa: E402
from backend.cases.models import Case  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.database import migrate  # noqa: E402
from backend.database.types import utcnow  # noqa: E402
from backend.main import create_app  # noqa: E402
from backend.staff import users  # noqa: E402
from backend.staff.permissions import Role  # noqa: E402
from backend.web.case_list_views import parse_list_query  # noqa: E402
from backend.web.core import Staff  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "a quiet timing password"
STREETS = ["Queen St W", "King St E", "Elm St", "Maple Ave", "Bloor St W", "Dundas St", "Yonge St", "Bay St"]
PROBLEMS = {
    "complaint": [
        "nobody came after I reported it",
        "the crew was rude",
        "I was charged twice",
        "it took weeks",
        "the missed pickup happened again",
        "the new policy makes no sense",
    ],
    "compliment": ["the crew was amazing", "thank you for the quick fix", "staff were very kind"],
    "service_request": [
        "there is a big pothole",
        "the streetlight is out",
        "the bin was not emptied",
        "a tree branch fell",
        "water is coming up from the road",
        "loud construction at night",
    ],
}
SCENARIOS = [
    ("newest page", ""),
    ("deep page (keyset, ~50,000 in)", "DEEP"),
    ("division", "division=TS"),
    ("open cases", "status=open"),
    ("kind + division", "kind=complaint&division=SWMS"),
    ("category", "category=TS-POTHOLE"),
    ("channel", "channel=sms"),
    ("overdue", "overdue=overdue"),
    ("one month", "from=2026-03-01&to=2026-03-31"),
    ("text, common word", "q=pothole"),
    ("text, rare word", "q=zebra"),
    ("overdue complaints in a division", "kind=complaint&division=TW&overdue=overdue"),
]


def seed(url: str, count: int) -> None:
    """Insert `count` cases straight into the table, in batches."""
    app = create_app(Settings(database_url=url, tracker_database_url=url, staff_token="-", actions_token="-"))
    catalog = app.state.catalog
    divisions = [(d.code, [s.service_code for s in d.services]) for d in catalog.divisions]
    rng = random.Random(311)
    now = utcnow()
    start = now - timedelta(days=730)
    seen: set[str] = set()
    rows = []
    for i in range(count):
        kind = rng.choices(list(CaseKind), weights=[4, 2, 4])[0]
        code, services = rng.choice(divisions)
        created = start + timedelta(seconds=rng.randrange(730 * 86_400))
        reference = references.generate(kind.value)
        while reference in seen:
            reference = references.generate(kind.value)
        seen.add(reference)
        age = (now - created).days
        status = CaseStatus.CLOSED if age > 30 and rng.random() < 0.95 else rng.choice(list(CaseStatus))
        is_open = status in (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS)
        due = created + timedelta(days=rng.randint(7, 28))
        rare = " zebra crossing" if i % 5000 == 0 else ""
        rows.append(
            {
                "reference": reference,
                "kind": kind,
                "status": status,
                "description": f"{rng.choice(PROBLEMS[kind.value])} near {rng.randint(1, 999)} "
                f"{rng.choice(STREETS)}{rare}",
                "location": f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
                "division": code if rng.random() < 0.95 else None,
                "service_code": rng.choice(services) if rng.random() < 0.8 else None,
                "channel": rng.choice(["rest", "sms", "telegram", "web", "open311"]),
                "sender_id": f"sender-{rng.randrange(count // 2)}",
                "details": {},
                "created_at": created,
                "updated_at": created,
                "stage": 1,
                "acknowledge_due_at": created + timedelta(days=7),
                "respond_due_at": due,
                "due_at": due if is_open else None,
                "respond_clock_started_at": created,
            }
        )
        if len(rows) == 5000:
            _insert(app, rows)
            rows = []
    if rows:
        _insert(app, rows)
    with app.state.database.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    app.state.database.dispose()


def _insert(app: object, rows: list[dict[str, object]]) -> None:
    with app.state.database.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(insert(Case.__table__), rows)


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Return the p50 and p95 of `action` in milliseconds (after one warm-up run)."""
    action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def bench(name: str, url: str, count: int, repeat: int) -> list[tuple[str, str, float, float, float, float, int]]:
    """Seed the database at `url` and time every scenario; return one row per scenario."""
    migrate.upgrade(url)
    started = time.perf_counter()
    seed(url, count)
    print(f"{name}: seeded {count:,} cases in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    app = create_app(Settings(database_url=url, tracker_database_url=url, staff_token="-", actions_token="-"))
    with app.state.database.sessionmaker() as session:
        users.create(
            session=session,
            catalog=app.state.catalog,
            email="bench@city.example",
            display_name="Bench",
            role=Role.SUPERVISOR,
            password=PASSWORD,
            actor_label="benchmark",
        )
    client = TestClient(app)
    form = client.get("/staff/sign-in").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    client.post("/staff/sign-in", data={"email": "bench@city.example", "password": PASSWORD, "csrf_token": csrf})
    with app.state.database.sessionmaker() as session:
        middle = session.execute(
            select(Case.created_at, Case.id)
            .order_by(Case.created_at.desc(), Case.id.desc())
            .offset(count // 2)
            .limit(1)
        ).one()
    deep = search.Cursor(created_at=middle.created_at, id=middle.id).encode()
    levels = app.state.service_levels
    results = []
    for label, query in SCENARIOS:
        params = f"older={deep}" if query == "DEEP" else query
        values = dict(part.split("=", 1) for part in params.split("&") if part)
        older = search.Cursor.decode(values.pop("older", None))
        with app.state.database.sessionmaker() as session:
            staff = Staff(
                user=users.get_by_email(session=session, email="bench@city.example"),  # type: ignore[arg-type]
                record=None,
            )  # type: ignore[arg-type]
            filters = parse_list_query(values, staff=staff, levels=levels, catalog=app.state.catalog).filters

            def query_once(
                session: Session = session, filters: search.CaseFilters = filters, older: search.Cursor | None = older
            ) -> int:
                now = utcnow()
                soon = levels.soon_threshold(now)
                page, total = search.search_and_count(
                    session=session, filters=filters, now=now, soon=soon, limit=50, older_than=older
                )
                return len(page.items) + total

            matched = search.count(session=session, filters=filters, now=utcnow(), soon=utcnow())
            query_p50, query_p95 = timed(query_once, repeat)

        def page_once(params: str = params) -> None:
            response = client.get(f"/staff/cases?{params}")
            assert response.status_code == 200, response.status_code

        page_p50, page_p95 = timed(page_once, repeat)
        results.append((name, label, query_p50, query_p95, page_p50, page_p95, matched))
    # The analytics page reads every case of its period (and up to 10,000 texts for the themes).
    today = levels.local_date(utcnow())
    for label, days in (("analytics, 12 weeks", 83), ("analytics, 2 years", 730)):
        params = f"from={today - timedelta(days=days)}&to={today}"
        with app.state.database.sessionmaker() as session:
            matched = search.count(
                session=session,
                filters=search.CaseFilters(received_from=levels.start_of_day(today - timedelta(days=days))),
                now=utcnow(),
                soon=utcnow(),
                cap=10**9,
            )

        def analytics_once(params: str = params) -> None:
            response = client.get(f"/staff/analytics?{params}")
            assert response.status_code == 200, response.status_code

        page_p50, page_p95 = timed(analytics_once, max(3, repeat // 6))
        results.append((name, label, float("nan"), float("nan"), page_p50, page_p95, matched))
    app.state.database.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000, help="cases to seed (default 100,000)")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per scenario (default 30)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("INTAKE_TEST_POSTGRES_URL") or None,
        help="SQLAlchemy URL of a PostgreSQL server to use too (default: INTAKE_TEST_POSTGRES_URL)",
    )
    args = parser.parse_args(argv)
    if args.postgres and make_url(args.postgres).host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--postgres must point at localhost")
    rows = []
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as folder:
        rows += bench("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", args.cases, args.repeat)
    if args.postgres:
        with fresh_postgres(args.postgres) as url:
            rows += bench("postgresql", url, args.cases, args.repeat)
    print(f"\nStaff case list, {args.cases:,} cases, 50 per page, {args.repeat} runs each (milliseconds)")
    print(f"{'database':<11} {'scenario':<34} {'matches':>8} {'query p50':>10} {'p95':>7} {'page p50':>9} {'p95':>7}")
    for name, label, qp50, qp95, pp50, pp95, matched in rows:
        shown = f">{10_000:,}" if matched > 10_000 and "analytics" not in label else f"{matched:,}"
        query = f"{qp50:>10.1f} {qp95:>7.1f}" if qp50 == qp50 else f"{'-':>10} {'-':>7}"  # NaN: page only
        print(f"{name:<11} {label:<34} {shown:>8} {query} {pp50:>9.1f} {pp95:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
