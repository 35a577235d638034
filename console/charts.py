"""Bar charts for the dashboard as plain data: heights in percent of the tallest bar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel import Locale
from babel.dates import format_skeleton


@dataclass(frozen=True)
class Bar:
    label: str
    value: str
    percent: int


def bars(points: list[tuple[str, int, str]]) -> list[Bar]:
    """``(label, amount, shown value)`` points as bars scaled to the largest amount."""
    top = max((amount for _label, amount, _shown in points), default=0)
    return [
        Bar(label=label, value=shown, percent=round(max(amount, 0) * 100 / top) if top > 0 else 0)
        for label, amount, shown in points
    ]


def month_label(day: date, locale: str) -> str:
    """A month and its year, abbreviated: fr "avr. 2026", en "Apr 2026"."""
    return str(format_skeleton("yMMM", day, locale=Locale.parse(locale.replace("-", "_"))))
