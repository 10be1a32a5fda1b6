"""Figures of the analytics page, computed from the cases in a division, kind and period."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from backend.analytics import themes
from backend.analytics.redaction import redact_places
from backend.cases.deadlines import ServiceLevels
from backend.cases.enums import COMPLAINT_SUBJECT_KEY, COMPLAINT_SUBJECTS, CaseKind, UpdateKind
from backend.cases.models import Case, CaseUpdate
from backend.catalog.schemas import Catalog

TOP_CATEGORIES = 10
THEME_SAMPLE = 5000  # the newest cases read for themes, in the selection and in the comparison set
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Selection:
    """Which cases the figures are about: a period (City dates, inclusive), and optionally a division and kind."""

    start: date
    end: date
    division: str | None = None
    kind: CaseKind | None = None
    divisions: tuple[str, ...] | None = None  # a division reviewer's own divisions


@dataclass(frozen=True)
class Duration:
    """How long something took, in days (to about ten seconds): over how many cases, the median and the 90th
    percentile. The page shows it in minutes, hours or days (`backend.web.templating.duration`)."""

    cases: int
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True)
class OnTime:
    """How many cases met a deadline, of those whose deadline has passed or that were answered."""

    on_time: int
    due: int

    @property
    def share(self) -> float | None:
        """Return the share on time, or None when nothing was due."""
        return self.on_time / self.due if self.due else None


@dataclass
class Figures:
    """Everything the analytics page shows."""

    total: int = 0
    by_kind: list[tuple[str, int]] = field(default_factory=list)
    by_division: list[tuple[str, int]] = field(default_factory=list)
    by_category: list[tuple[str, int]] = field(default_factory=list)
    complaints_by_subject: list[tuple[str, int]] = field(default_factory=list)
    by_week: list[tuple[date, int]] = field(default_factory=list)
    to_acknowledge: Duration = Duration(0, None, None)
    to_close: Duration = Duration(0, None, None)
    acknowledged_on_time: OnTime = OnTime(0, 0)
    answered_on_time: OnTime = OnTime(0, 0)
    compliments_by_team: list[tuple[str, int]] = field(default_factory=list)
    themes: list[themes.Theme] = field(default_factory=list)
    themes_compared: bool = False


def _selected(selection: Selection, levels: ServiceLevels, query: Select[Any]) -> Select[Any]:
    start = levels.start_of_day(selection.start)
    end = levels.start_of_day(selection.end + timedelta(days=1))
    query = query.where(Case.created_at >= start, Case.created_at < end)
    if selection.divisions is not None:
        query = query.where(Case.division.in_(selection.divisions))
    if selection.division is not None:
        query = query.where(Case.division == selection.division)
    if selection.kind is not None:
        query = query.where(Case.kind == selection.kind)
    return query


def _duration(seconds: list[float]) -> Duration:
    if not seconds:
        return Duration(0, None, None)
    days = sorted(value / SECONDS_PER_DAY for value in seconds)
    p90 = days[min(len(days) - 1, int(round(0.9 * (len(days) - 1))))]
    return Duration(len(days), round(statistics.median(days), 4), round(p90, 4))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def compute(
    *, session: Session, catalog: Catalog, levels: ServiceLevels, selection: Selection, now: datetime
) -> Figures:
    """Return the figures for `selection` as of `now`."""
    columns = (
        Case.id,
        Case.kind,
        Case.division,
        Case.service_code,
        Case.created_at,
        Case.acknowledged_at,
        Case.resolved_at,
        Case.closed_at,
        Case.acknowledge_due_at,
        Case.respond_due_at,
        Case.details[COMPLAINT_SUBJECT_KEY].as_string().label("subject"),
    )
    rows = session.execute(_selected(selection, levels, select(*columns))).all()
    figures = Figures(total=len(rows))
    kinds: Counter[str] = Counter()
    divisions: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    weeks: Counter[date] = Counter()
    acknowledge_seconds: list[float] = []
    close_seconds: list[float] = []
    ack_on_time = ack_due = answer_on_time = answer_due = 0
    compliment_ids: dict[int, str | None] = {}
    subjects: Counter[str] = Counter()
    for row in rows:
        kinds[row.kind.value] += 1
        divisions[row.division or ""] += 1
        categories[row.service_code or ""] += 1
        weeks[_monday(levels.local_date(row.created_at))] += 1
        if row.acknowledged_at is not None:
            acknowledge_seconds.append((row.acknowledged_at - row.created_at).total_seconds())
        if row.closed_at is not None:
            close_seconds.append((row.closed_at - row.created_at).total_seconds())
        if row.acknowledge_due_at is not None:
            if row.acknowledged_at is not None:
                ack_due += 1
                ack_on_time += row.acknowledged_at <= row.acknowledge_due_at
            elif row.acknowledge_due_at < now:
                ack_due += 1
        answered = row.resolved_at or row.closed_at
        if row.respond_due_at is not None:
            if answered is not None:
                answer_due += 1
                answer_on_time += answered <= row.respond_due_at
            elif row.respond_due_at < now:
                answer_due += 1
        if row.kind is CaseKind.COMPLIMENT:
            compliment_ids[row.id] = row.division
        elif row.kind is CaseKind.COMPLAINT:
            subjects[row.subject or ""] += 1
    figures.by_kind = [(kind.value, kinds.get(kind.value, 0)) for kind in CaseKind]
    figures.by_division = [
        (division.name, divisions[division.code]) for division in catalog.divisions if divisions.get(division.code)
    ]
    if divisions.get(""):
        figures.by_division.append(("No division yet", divisions[""]))
    figures.by_division.sort(key=lambda item: -item[1])
    figures.by_category = _categories(categories, catalog)
    figures.complaints_by_subject = [
        (name, subjects[code]) for code, name in COMPLAINT_SUBJECTS.items() if subjects.get(code)
    ] + [("Not said", count) for code, count in subjects.items() if code not in COMPLAINT_SUBJECTS and count]
    first = _monday(selection.start)
    figures.by_week = [
        (first + timedelta(weeks=i), weeks.get(first + timedelta(weeks=i), 0))
        for i in range((_monday(selection.end) - first).days // 7 + 1)
    ]
    figures.to_acknowledge = _duration(acknowledge_seconds)
    figures.to_close = _duration(close_seconds)
    figures.acknowledged_on_time = OnTime(ack_on_time, ack_due)
    figures.answered_on_time = OnTime(answer_on_time, answer_due)
    figures.compliments_by_team = _teams(session, catalog, compliment_ids)
    figures.themes, figures.themes_compared = _themes(session, levels, selection)
    return figures


def _categories(counts: Counter[str], catalog: Catalog) -> list[tuple[str, int]]:
    named = []
    for code, number in counts.most_common():
        if not code:
            continue
        found = catalog.find_service(code)
        named.append((found[0].service_name if found else code, number))
    shown = named[:TOP_CATEGORIES]
    rest = sum(number for _, number in named[TOP_CATEGORIES:])
    if rest:
        shown.append(("Other categories", rest))
    if counts.get(""):
        shown.append(("No category yet", counts[""]))
    return shown


def _teams(session: Session, catalog: Catalog, compliments: dict[int, str | None]) -> list[tuple[str, int]]:
    """Return compliments per team: the team each was forwarded to, else its division."""
    forwarded: dict[int, str] = {}
    ids = list(compliments)
    for start in range(0, len(ids), 1000):  # keep IN lists short for every database
        query = (
            select(CaseUpdate.case_id, CaseUpdate.new_value)
            .where(CaseUpdate.kind == UpdateKind.FORWARD, CaseUpdate.case_id.in_(ids[start : start + 1000]))
            .order_by(CaseUpdate.id)
        )
        for case_id, team in session.execute(query):
            forwarded[case_id] = team  # the latest forward wins
    teams: Counter[str] = Counter()
    for case_id, division in compliments.items():
        found = catalog.find_division(division) if division else None
        teams[forwarded.get(case_id) or (found.name if found else "Team not named")] += 1
    return teams.most_common()


def _themes(session: Session, levels: ServiceLevels, selection: Selection) -> tuple[list[themes.Theme], bool]:
    """Return the selection's key themes, compared with the other cases of the same period when there are any.

    Places are taken out of each text first, the case's own location among them (`redact_places`)."""
    texts = (
        select(Case.id, Case.sender_id, Case.description, Case.location)
        .order_by(Case.created_at.desc())
        .limit(THEME_SAMPLE)
    )
    chosen = session.execute(_selected(selection, levels, texts)).all()
    reference: list[tuple[str, str]] = []
    narrowed = selection.division is not None or selection.kind is not None
    if narrowed and chosen:
        wider = Selection(start=selection.start, end=selection.end, divisions=selection.divisions)
        ids = {row.id for row in chosen}
        others = session.execute(_selected(wider, levels, texts.limit(THEME_SAMPLE + len(ids)))).all()
        reference = [
            (row.sender_id, redact_places(row.description, row.location)) for row in others if row.id not in ids
        ][:THEME_SAMPLE]
    found = themes.key_themes(
        [(row.sender_id, redact_places(row.description, row.location)) for row in chosen], reference
    )
    return found, bool(reference)
