"""Billing periods of subscriptions and seats: pure date arithmetic.

A subscription is anchored on a date; its periods are half-open ``[start, end)``
ranges of dates. Monthly and annual periods keep the anchor's day of month,
clamped to the last day of shorter months: a subscription anchored on 31 January
renews on 28 (or 29) February, then on 31 March again; one anchored on 29
February renews on 28 February in common years and on 29 February in leap years.
This matches Stripe Billing's billing-cycle anchor behaviour.

No clock is read here: the caller always passes the date of interest.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from enum import StrEnum

from domain.checks import require_int

DAYS_PER_WEEK = 7
MONTHS_PER_YEAR = 12


class Interval(StrEnum):
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


def _validate_day(day: int, name: str) -> None:
    require_int(day, name)
    if not 1 <= day <= 31:
        raise ValueError(f"{name} must be between 1 and 31, got {day}")


def clamp_day(year: int, month: int, day: int) -> date:
    """The date ``year-month-day``, with ``day`` clamped to the month's last day."""
    _validate_day(day, "day")
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day, last_day))


def _add_months(start: date, months: int, anchor_day: int) -> date:
    year, month_index = divmod(start.year * MONTHS_PER_YEAR + start.month - 1 + months, MONTHS_PER_YEAR)
    return clamp_day(year, month_index + 1, anchor_day)


def add_interval(start: date, interval: Interval, *, anchor_day: int, count: int = 1) -> date:
    """The date ``count`` intervals after ``start``.

    Weekly: ``start + 7 * count`` days (``anchor_day`` is not used). Monthly and
    yearly: the ``anchor_day`` of the target month, clamped to its last day, so the
    anchor survives short months (31 Jan -> 28/29 Feb -> 31 Mar).
    """
    _validate_day(anchor_day, "anchor_day")
    interval = Interval(interval)
    if interval is Interval.WEEK:
        return start + timedelta(days=DAYS_PER_WEEK * count)
    if interval is Interval.MONTH:
        return _add_months(start, count, anchor_day)
    return _add_months(start, MONTHS_PER_YEAR * count, anchor_day)


def months_between(start: date, at: date) -> int:
    """Whole months elapsed from ``start`` to ``at`` (``at >= start``).

    A month is complete once ``start``'s day of month, clamped to the month's last
    day, is reached: from 31 January, 28 February 2026 counts as one month and 30
    March as still one month.
    """
    if at < start:
        raise ValueError(f"months_between: {at} is before {start}")
    months = (at.year - start.year) * MONTHS_PER_YEAR + at.month - start.month
    if clamp_day(at.year, at.month, start.day) > at:
        months -= 1
    return months


def period_containing(anchor: date, interval: Interval, at: date) -> tuple[date, date]:
    """The ``[start, end)`` billing period containing ``at``.

    Periods follow each other from ``anchor`` (the first period starts there) and
    keep ``anchor.day`` as their day of month. ``at`` before ``anchor`` is an error.
    """
    if at < anchor:
        raise ValueError(f"{at} is before the subscription anchor {anchor}")
    interval = Interval(interval)
    if interval is Interval.WEEK:
        count = (at - anchor).days // DAYS_PER_WEEK
    elif interval is Interval.MONTH:
        count = months_between(anchor, at)
    else:
        count = months_between(anchor, at) // MONTHS_PER_YEAR
    start = add_interval(anchor, interval, anchor_day=anchor.day, count=count)
    end = add_interval(anchor, interval, anchor_day=anchor.day, count=count + 1)
    return start, end
