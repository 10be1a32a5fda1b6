"""Deadlines in working days: weekends and public holidays skipped, limits per kind, stage and division."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from backend_testing import ACTIONS, case_body
from fastapi import FastAPI
from fastapi.testclient import TestClient
from staff_testing import _empty_staff_tables, _quick_password_hashing, load, new_case  # noqa: F401

from backend.cases.deadlines import Limit, ServiceLevels, ServiceLevelsError
from backend.cases.enums import CaseKind
from backend.catalog.loader import load_catalog
from backend.config import DEFAULT_CATALOG_PATH, DEFAULT_SERVICE_LEVELS_PATH

TORONTO = ZoneInfo("America/Toronto")
CATALOG = load_catalog(DEFAULT_CATALOG_PATH)


def levels_from(tmp_path: Path, text: str) -> ServiceLevels:
    path = tmp_path / "levels.yml"
    path.write_text(text)
    return ServiceLevels.load(path, CATALOG)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TORONTO)


def test_working_days_skip_weekends_and_holidays(tmp_path: Path) -> None:
    levels = levels_from(tmp_path, "timezone: America/Toronto\nholidays: [2026-12-25, 2026-12-28]\n")
    # Thursday 24 December, 10:00: Friday 25 and Monday 28 are holidays, the weekend does not count.
    due = levels.add_working_days(local(2026, 12, 24, 10, 0), 2)
    assert due == local(2026, 12, 30, 23, 59, 59)
    # A case that arrives on a Saturday starts counting on Monday.
    assert levels.add_working_days(local(2026, 11, 28, 9, 0), 1) == local(2026, 11, 30, 23, 59, 59)
    # The day is the City's: 02:00 UTC on a Tuesday is still Monday evening in Toronto.
    monday_evening = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    assert levels.add_working_days(monday_evening, 1) == local(2026, 12, 1, 23, 59, 59)


def test_the_shipped_file_has_the_default_limits_and_ontario_holidays() -> None:
    levels = ServiceLevels.load(DEFAULT_SERVICE_LEVELS_PATH, CATALOG)
    assert date(2026, 7, 1) in levels.holidays and date(2027, 12, 27) in levels.holidays
    assert levels.limit(Limit.ACKNOWLEDGE, kind=CaseKind.COMPLAINT, division="TW") == 5
    assert levels.limit(Limit.RESPOND_STAGE_1, kind=CaseKind.COMPLAINT, division="TW") == 10
    assert levels.limit(Limit.RESPOND_STAGE_2, kind=CaseKind.COMPLAINT, division=None) == 20
    # The catalog gives Solid Waste 7 working days at stage 1.
    assert levels.limit(Limit.RESPOND_STAGE_1, kind=CaseKind.COMPLAINT, division="SWMS") == 7


def test_limits_per_kind_and_per_division_and_kind(tmp_path: Path) -> None:
    levels = levels_from(
        tmp_path,
        """
kinds:
  compliment: {acknowledge: 10}
divisions:
  Solid Waste Management Services:
    service_request: {respond_stage_1: 3}
""",
    )
    assert levels.limit(Limit.ACKNOWLEDGE, kind=CaseKind.COMPLIMENT, division="TW") == 10
    assert levels.limit(Limit.ACKNOWLEDGE, kind=CaseKind.COMPLAINT, division="TW") == 5
    assert levels.limit(Limit.RESPOND_STAGE_1, kind=CaseKind.SERVICE_REQUEST, division="SWMS") == 3
    assert levels.limit(Limit.RESPOND_STAGE_1, kind=CaseKind.COMPLAINT, division="SWMS") == 7
    assert levels.limit(Limit.RESPOND_STAGE_1, kind=CaseKind.SERVICE_REQUEST, division="TW") == 10


@pytest.mark.parametrize(
    "text, message",
    [
        ("holidays: [not-a-date]\n", "holidays"),
        ("timezone: Mars/Olympus\n", "unknown time zone"),
        ("divisions:\n  NOPE:\n    complaint: {acknowledge: 2}\n", "not in the catalog"),
        ("kinds:\n  complaint: {acknowledge: 0}\n", "greater than 0"),
        ("kinds:\n  complaint: {answer: 3}\n", "Extra inputs"),
        ("kinds: [\n", "cannot read"),
    ],
)
def test_a_bad_service_levels_file_is_refused_clearly(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ServiceLevelsError, match=message):
        levels_from(tmp_path, text)


def test_cases_made_through_the_api_get_deadlines_from_the_configured_file(
    tmp_path: Path, make_app: Callable[..., FastAPI]
) -> None:
    path = tmp_path / "levels.yml"
    path.write_text("kinds:\n  complaint: {acknowledge: 1, respond_stage_1: 2}\n")
    app = make_app(service_levels_path=path)
    client = TestClient(app)
    reference = new_case(client, kind="complaint", division="TW")
    case = load(app.state.database.engine, reference)
    levels: ServiceLevels = app.state.service_levels
    assert case.acknowledge_due_at == levels.add_working_days(case.created_at, 1)
    assert case.respond_due_at == levels.add_working_days(case.created_at, 2)
    assert case.due_at == case.acknowledge_due_at
    assert case.stage == 1


def test_the_new_case_tells_the_assistant_the_time_limits_its_kind_and_division_get(
    tmp_path: Path, make_app: Callable[..., FastAPI]
) -> None:
    path = tmp_path / "levels.yml"
    path.write_text("kinds:\n  complaint: {acknowledge: 1}\ndivisions:\n  TW:\n    complaint: {respond_stage_1: 4}\n")
    app = make_app(service_levels_path=path)
    client = TestClient(app)
    levels: ServiceLevels = app.state.service_levels
    water = client.post("/api/cases", json=case_body(kind="complaint", division="TW"), headers=ACTIONS).json()
    assert (water["acknowledge_days"], water["respond_days"]) == (1, 4)  # the kind's, then the division's override
    case = load(app.state.database.engine, water["reference"])
    assert datetime.fromisoformat(water["respond_due_at"].replace("Z", "+00:00")) == case.respond_due_at
    elsewhere = client.post("/api/cases", json=case_body(kind="complaint", division="SWMS"), headers=ACTIONS).json()
    catalog_days = levels.catalog.find_division("SWMS").time_limits.respond_stage_1
    assert (elsewhere["acknowledge_days"], elsewhere["respond_days"]) == (1, catalog_days)


def test_a_missing_service_levels_file_stops_start_up(tmp_path: Path, make_app: Callable[..., FastAPI]) -> None:
    with pytest.raises(ServiceLevelsError, match="cannot read"):
        make_app(service_levels_path=tmp_path / "missing.yml")
