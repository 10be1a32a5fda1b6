"""Deadlines in working days: which time limit applies to a case, and when it falls due.

The limits come from the division catalog and `backend/service_levels.yml` (which also holds the time zone and the
public holidays). A deadline of N working days ends at the end of the Nth working day after the day the clock
started, in the City's time zone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

from backend.cases.enums import CaseKind
from backend.catalog.schemas import Catalog

logger = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "America/Toronto"
_END_OF_DAY = time(23, 59, 59)


class Limit(str, Enum):
    """The time limits a case has."""

    ACKNOWLEDGE = "acknowledge"
    RESPOND_STAGE_1 = "respond_stage_1"
    RESPOND_STAGE_2 = "respond_stage_2"


class ServiceLevelsError(ValueError):
    """The service levels file is missing or invalid."""


class _Overrides(BaseModel):
    model_config = ConfigDict(extra="forbid")

    acknowledge: PositiveInt | None = None
    respond_stage_1: PositiveInt | None = None
    respond_stage_2: PositiveInt | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = DEFAULT_TIMEZONE
    holidays: list[date] = Field(default_factory=list)
    kinds: dict[CaseKind, _Overrides] = Field(default_factory=dict)
    divisions: dict[str, dict[CaseKind, _Overrides]] = Field(default_factory=dict)


@dataclass(frozen=True)
class ServiceLevels:
    """Time limits per division, kind and stage, and the calendar that counts working days."""

    catalog: Catalog
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    holidays: frozenset[date] = frozenset()
    kinds: dict[CaseKind, dict[Limit, int]] = field(default_factory=dict)
    divisions: dict[str, dict[CaseKind, dict[Limit, int]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path, catalog: Catalog) -> ServiceLevels:
        """Return the service levels in the YAML file at `path`, or raise `ServiceLevelsError`."""
        path = Path(path)
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            parsed = _File.model_validate(data)
            zone = ZoneInfo(parsed.timezone)
        except (OSError, yaml.YAMLError) as exc:
            raise ServiceLevelsError(f"{path}: cannot read the service levels: {exc}") from exc
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ServiceLevelsError(f"{path}: invalid service levels: {problems}") from None
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ServiceLevelsError(f"{path}: unknown time zone {parsed.timezone!r}") from exc
        unknown = [code for code in parsed.divisions if catalog.find_division(code) is None]
        if unknown:
            raise ServiceLevelsError(f"{path}: divisions not in the catalog: {', '.join(unknown)}")
        levels = cls(
            catalog=catalog,
            zone=zone,
            holidays=frozenset(parsed.holidays),
            kinds={kind: _set(overrides) for kind, overrides in parsed.kinds.items()},
            divisions={
                _division_code(catalog, code): {kind: _set(o) for kind, o in by_kind.items()}
                for code, by_kind in parsed.divisions.items()
            },
        )
        logger.info("Loaded service levels from %s (%d holidays)", path, len(levels.holidays))
        return levels

    def limit(self, limit: Limit, *, kind: CaseKind, division: str | None) -> int:
        """Return the number of working days `limit` allows for a case of `kind` in `division`."""
        if division is not None and (days := self.divisions.get(division, {}).get(kind, {}).get(limit)):
            return days
        if days := self.kinds.get(kind, {}).get(limit):
            return days
        found = self.catalog.find_division(division) if division else None
        limits = found.time_limits if found is not None else self.catalog.time_limits
        value: int = getattr(limits, limit.value)
        return value

    def is_working_day(self, day: date) -> bool:
        """Return True for Monday to Friday, except public holidays."""
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Return the end (in the City's time zone, as UTC) of the `days`-th working day after `start`'s day."""
        day = start.astimezone(self.zone).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, _END_OF_DAY, tzinfo=self.zone).astimezone(timezone.utc)

    def due(self, limit: Limit, *, kind: CaseKind, division: str | None, start: datetime) -> datetime:
        """Return when `limit` falls due for a case of `kind` in `division` whose clock started at `start`."""
        return self.add_working_days(start, self.limit(limit, kind=kind, division=division))

    def soon_threshold(self, now: datetime) -> datetime:
        """Return the moment before which a deadline counts as due soon: the end of the next working day."""
        return self.add_working_days(now, 1)

    def local_date(self, moment: datetime) -> date:
        """Return the City's calendar date at `moment`."""
        return moment.astimezone(self.zone).date()

    def start_of_day(self, day: date) -> datetime:
        """Return the first moment of `day` in the City's time zone, as UTC."""
        return datetime.combine(day, time(0, 0), tzinfo=self.zone).astimezone(timezone.utc)


def _set(overrides: _Overrides) -> dict[Limit, int]:
    """Return the limits the overrides give, leaving out the unset ones."""
    return {Limit(name): days for name, days in overrides.model_dump(exclude_none=True).items()}


def _division_code(catalog: Catalog, code_or_name: str) -> str:
    """Return the catalog's code of a division given by code or name."""
    found = catalog.find_division(code_or_name)
    assert found is not None
    return found.code
