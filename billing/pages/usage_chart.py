"""Geometry of the 30-day daily credit usage chart (seed 001), drawn as server-side SVG.

Pure: takes the daily series and a locale, returns coordinates and labels for the
template (labels worded by :mod:`billing.pages.display`). The y axis starts at 0 and
ends on a round number (a round step × 4), so a month without usage still shows a
readable, empty chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from billing.pages.display import chart_axis_day, chart_axis_value, chart_point_title, svg_number

NICE_STEPS = tuple(Fraction(s) for s in ("1", "1.5", "2", "2.5", "3", "4", "5", "7.5", "10"))
Y_TICKS = 4


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    day: date
    value: int
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class UsageChart:
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    points: tuple[ChartPoint, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    axis_max: int
    total: int

    @property
    def line(self) -> str:
        return " ".join(f"{svg_number(p.x)},{svg_number(p.y)}" for p in self.points)

    @property
    def area(self) -> str:
        if not self.points:
            return ""
        first, last = self.points[0], self.points[-1]
        return f"{svg_number(first.x)},{self.bottom} {self.line} {svg_number(last.x)},{self.bottom}"

    @property
    def is_empty(self) -> bool:
        return self.total == 0


def nice_ceiling(value: int) -> int:
    """The top of the y axis: four equal whole ticks of a round step, ≥ value (at least 4)."""
    needed = Fraction(max(value, 0), Y_TICKS)
    magnitude = 1
    while magnitude * 10 <= needed:
        magnitude *= 10
    for step in NICE_STEPS:
        tick = step * magnitude
        if tick >= needed and tick.denominator == 1:
            return int(tick) * Y_TICKS
    return 10 * magnitude * Y_TICKS


def build_usage_chart(
    series: Sequence[tuple[date, int]],
    *,
    locale: str,
    credits_label: str,
    width: int = 720,
    height: int = 240,
) -> UsageChart:
    """Lay out ``series`` (one (day, credits used) per day, oldest first)."""
    left, right, top, bottom = 56, width - 16, 16, height - 32
    axis_max = nice_ceiling(max((v for _, v in series), default=0))
    span_x = right - left
    span_y = bottom - top
    count = len(series)
    points = []
    for index, (day, value) in enumerate(series):
        x = left + (span_x * index / (count - 1) if count > 1 else span_x / 2)
        y = bottom - span_y * value / axis_max
        title = chart_point_title(day, value, locale=locale, credits_label=credits_label)
        points.append(ChartPoint(x=x, y=y, day=day, value=value, title=title))
    y_ticks = tuple(
        Tick(position=bottom - span_y * i / Y_TICKS, label=chart_axis_value(axis_max * i // Y_TICKS, locale))
        for i in range(Y_TICKS + 1)
    )
    every = max(1, count // 6)
    x_ticks = tuple(
        Tick(position=p.x, label=chart_axis_day(p.day, locale))
        for i, p in enumerate(points)
        if i % every == 0 or i == count - 1
    )
    return UsageChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        points=tuple(points),
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        axis_max=axis_max,
        total=sum(v for _, v in series),
    )
