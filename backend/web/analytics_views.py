"""The analytics page: volumes, timeliness, compliments per team and key themes, as charts with tables behind."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from backend.analytics import charts
from backend.analytics.service import Figures, Selection, compute
from backend.cases.deadlines import ServiceLevels
from backend.cases.enums import CaseKind
from backend.catalog.schemas import Catalog
from backend.catalog.views import get_catalog
from backend.database.core import get_session
from backend.database.types import utcnow
from backend.staff.permissions import Permission
from backend.web.core import PREFIX, Staff, require
from backend.web.templating import label, render

router = APIRouter(prefix=PREFIX, include_in_schema=False)

DEFAULT_WEEKS = 12
MAX_DAYS = 3 * 366


def _parse(
    request: Request, staff: Staff, catalog: Catalog, levels: ServiceLevels
) -> tuple[Selection, dict[str, str], list[str]]:
    params = request.query_params
    values = {name: (params.get(name) or "").strip()[:100] for name in ("division", "kind", "from", "to")}
    problems: list[str] = []
    today = levels.local_date(utcnow())
    end, start = today, today - timedelta(days=today.weekday()) - timedelta(weeks=DEFAULT_WEEKS - 1)
    try:
        if values["to"]:
            end = date.fromisoformat(values["to"])
        if values["from"]:
            start = date.fromisoformat(values["from"])
    except ValueError:
        problems.append("Give dates as YYYY-MM-DD.")
    if start > end:
        problems.append("The first day must come before the last day.")
    elif (end - start).days > MAX_DAYS:
        problems.append("Choose a period of at most three years.")
    division = None
    if values["division"]:
        found = catalog.find_division(values["division"])
        if found is None or not staff.sees(found.code):
            problems.append("Choose a division from the list.")
        else:
            division = found.code
    kind = None
    if values["kind"]:
        try:
            kind = CaseKind(values["kind"])
        except ValueError:
            problems.append("Choose a kind from the list.")
    values["from"], values["to"] = start.isoformat(), end.isoformat()
    return Selection(start=start, end=end, division=division, kind=kind, divisions=staff.divisions), values, problems


def _charts(figures: Figures) -> list[charts.Chart]:
    weeks = [(f"{week.day} {week:%b}", count) for week, count in figures.by_week]
    made = [
        charts.columns("by-week", "Cases per week (weeks start on Monday)", weeks),
        charts.bars("by-kind", "Cases by kind", [(label(kind), count) for kind, count in figures.by_kind]),
        charts.bars("by-division", "Cases by division", figures.by_division),
        charts.bars("by-category", "Cases by category", figures.by_category),
        charts.bars(
            "by-subject", "Complaints by what they are about", figures.complaints_by_subject, value_header="Complaints"
        ),
    ]
    on_time = [
        (name, round(100 * share, 1))
        for name, share in (
            ("Acknowledged on time", figures.acknowledged_on_time.share),
            ("Answered on time", figures.answered_on_time.share),
        )
        if share is not None
    ]
    made.append(charts.bars("on-time", "Share of cases on time", on_time, unit="%", value_header="Share", maximum=100))
    made.append(
        charts.bars("compliments", "Compliments per team", figures.compliments_by_team, value_header="Compliments")
    )
    return made


@router.get("/analytics")
def analytics(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    catalog: Annotated[Catalog, Depends(get_catalog)],
    staff: Annotated[Staff, Depends(require(Permission.VIEW_ANALYTICS))],
) -> Response:
    """Show the analytics of the chosen division, kind and period."""
    levels: ServiceLevels = request.app.state.service_levels
    selection, values, problems = _parse(request, staff, catalog, levels)
    figures = (
        Figures()
        if problems
        else compute(session=session, catalog=catalog, levels=levels, selection=selection, now=utcnow())
    )
    return render(
        request,
        "staff/analytics.html",
        {
            "staff": staff,
            "values": values,
            "problems": problems,
            "figures": figures,
            "charts": [] if problems else _charts(figures),
            "kinds": list(CaseKind),
            "divisions": [d for d in catalog.divisions if staff.sees(d.code)],
        },
        status_code=422 if problems else 200,
    )
