"""The case list as CSV, optionally without personal details, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from backend.analytics.redaction import redact
from backend.cases.deadlines import ServiceLevels
from backend.cases.models import Case
from backend.catalog.schemas import Catalog

COLUMNS = (
    "reference",
    "kind",
    "status",
    "stage",
    "division",
    "category",
    "channel",
    "received",
    "acknowledged",
    "resolved",
    "closed",
    "acknowledge_due",
    "respond_due",
    "deadline",
    "assignee",
    "location",
    "description",
)
# A spreadsheet runs a cell that starts with one of these as a formula: resident text must stay text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _time(moment: datetime | None, levels: ServiceLevels) -> str:
    return moment.astimezone(levels.zone).isoformat(timespec="minutes") if moment else ""


def csv_lines(
    rows: Iterable[Case],
    *,
    catalog: Catalog,
    levels: ServiceLevels,
    names: dict[int, str],
    redacted: bool,
    now: datetime,
    soon: datetime,
) -> Iterator[str]:
    """Yield the CSV text of `rows` a line at a time; `redacted` leaves out the place and redacts descriptions."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield "\ufeff" + flush()  # a byte-order mark, so that spreadsheets read the file as UTF-8
    for case in rows:
        service = catalog.find_service(case.service_code) if case.service_code else None
        if case.due_at is None:
            deadline = ""
        elif case.due_at < now:
            deadline = "overdue"
        else:
            deadline = "due soon" if case.due_at <= soon else "on track"
        writer.writerow(
            [
                _cell(value)
                for value in (
                    case.reference,
                    case.kind.value,
                    case.status.value,
                    case.stage,
                    case.division or "",
                    service[0].service_name if service else "",
                    case.channel,
                    _time(case.created_at, levels),
                    _time(case.acknowledged_at, levels),
                    _time(case.resolved_at, levels),
                    _time(case.closed_at, levels),
                    _time(case.acknowledge_due_at, levels),
                    _time(case.respond_due_at, levels),
                    deadline,
                    names.get(case.assignee_id, "") if case.assignee_id is not None else "",
                    "" if redacted else (case.location or ""),
                    redact(case.description) if redacted else case.description,
                )
            ]
        )
        yield flush()
