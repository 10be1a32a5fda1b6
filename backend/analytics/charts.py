"""Simple charts drawn on the server as SVG geometry (the template draws them), each with the numbers behind it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 240
PLOT_WIDTH = 320
VALUE_WIDTH = 70
COLUMN_WIDTH = 40
COLUMN_GAP = 16
COLUMN_PLOT_HEIGHT = 160


@dataclass(frozen=True)
class Mark:
    """One bar or column: its label, its value as shown, and where it is drawn."""

    label: str
    value: float
    shown: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    """A chart: its id (for labelling), title, orientation, size, marks, and the header of its value column."""

    id: str
    title: str
    horizontal: bool
    width: float
    height: float
    marks: list[Mark]
    value_header: str

    @property
    def summary(self) -> str:
        """Return a one-sentence description for assistive technology."""
        if not self.marks:
            return f"{self.title}: no data."
        top = max(self.marks, key=lambda mark: mark.value)
        return f"{self.title}. Largest: {top.label}, {top.shown}. All values are in the table below the chart."


def _shown(value: float, unit: str) -> str:
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{number}{unit}"


def bars(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    value_header: str = "Cases",
    maximum: float | None = None,
) -> Chart:
    """Return a horizontal bar chart of (label, value) rows, in the order given."""
    top = maximum if maximum is not None else max((value for _, value in rows), default=0) or 1
    marks = [
        Mark(
            label=label,
            value=value,
            shown=_shown(value, unit),
            x=LABEL_WIDTH,
            y=i * (BAR_HEIGHT + BAR_GAP),
            width=max(PLOT_WIDTH * value / top, 1 if value else 0),
            height=BAR_HEIGHT,
        )
        for i, (label, value) in enumerate(rows)
    ]
    height = max(len(rows), 1) * (BAR_HEIGHT + BAR_GAP)
    return Chart(chart_id, title, True, LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH, height, marks, value_header)


def columns(
    chart_id: str, title: str, rows: Sequence[tuple[str, float]], *, unit: str = "", value_header: str = "Cases"
) -> Chart:
    """Return a column chart of (label, value) rows, left to right (for values over time)."""
    top = max((value for _, value in rows), default=0) or 1
    marks = []
    for i, (label, value) in enumerate(rows):
        height = COLUMN_PLOT_HEIGHT * value / top
        marks.append(
            Mark(
                label=label,
                value=value,
                shown=_shown(value, unit),
                x=i * (COLUMN_WIDTH + COLUMN_GAP),
                y=20 + COLUMN_PLOT_HEIGHT - height,
                width=COLUMN_WIDTH,
                height=height,
            )
        )
    width = max(len(rows), 1) * (COLUMN_WIDTH + COLUMN_GAP)
    return Chart(chart_id, title, False, width, 20 + COLUMN_PLOT_HEIGHT + 40, marks, value_header)
