"""Proration of prices over a billing period (docs/rules/proration.md#fraction-rule).

``fraction = remaining units / units in the period`` and
``amount = price x fraction``, rounded to the cent half away from zero by
:func:`domain.money.round_half_up`.

Units:

* **days** for weekly and monthly periods (a monthly period has 28 to 31 units);
* **whole months** for annual periods (always 12 units), whatever the day within
  the month.

Adding and removing differ (docs/rules/proration.md#adding-a-seat,
docs/rules/proration.md#removing-a-seat):

* :func:`charge_proration` — a seat (or plan) added on ``at`` is charged for the
  current unit and every unit after it: monthly, from ``at`` to the period end
  (added 3 March in a 1 March - 1 April period: 29 of 31 days); annual, from the
  current month (added 1 March in a 1 January period: 10 of 12 months).
* :func:`removal_credit_proration` — a seat removed on ``at`` is credited from the
  removal day for day units (removed 18 March: 14 of 31 days), but only for the
  months *after* the current one for annual periods (removed in June of a
  1 January period: July-December, 6 of 12 months).

Plan changes and the switch to annual use :func:`charge_proration` for *both*
sides: the charge for the new plan and the credit for the old plan's unused time.
Both then cover the same span, so changing to a plan of the same price nets to
exactly zero. The removal rule applies to seats only.

Pure: no ORM, no clock; the caller passes ``at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Literal

from domain.checks import require_int
from domain.money import round_half_up
from domain.periods import MONTHS_PER_YEAR, Interval, months_between

ProrationUnit = Literal["day", "month"]


@dataclass(frozen=True, slots=True)
class Proration:
    """The prorated part of a price: ``remaining_units`` of ``total_units``."""

    remaining_units: int
    total_units: int
    unit: ProrationUnit
    amount_cents: int

    def __post_init__(self) -> None:
        if self.unit not in ("day", "month"):
            raise ValueError(f"unit must be 'day' or 'month', got {self.unit!r}")
        if self.total_units <= 0:
            raise ValueError(f"total_units must be positive, got {self.total_units}")
        if not 0 <= self.remaining_units <= self.total_units:
            raise ValueError(
                f"remaining_units must be between 0 and {self.total_units}, got {self.remaining_units}"
            )

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.remaining_units, self.total_units)

    def describe(self) -> str:
        """A short English description, e.g. ``"10 of 12 months"``."""
        noun = self.unit if self.total_units == 1 else f"{self.unit}s"
        return f"{self.remaining_units} of {self.total_units} {noun}"


def _validate(
    price_cents: int, period_start: date, period_end: date, at: date, interval: Interval
) -> Interval:
    require_int(price_cents, "price_cents")
    if price_cents < 0:
        raise ValueError(f"price_cents must not be negative, got {price_cents}")
    if period_end <= period_start:
        raise ValueError(f"billing period end {period_end} is not after its start {period_start}")
    if not period_start <= at < period_end:
        raise ValueError(f"{at} is outside the billing period [{period_start}, {period_end})")
    interval = Interval(interval)
    if interval is Interval.YEAR and months_between(period_start, period_end) != MONTHS_PER_YEAR:
        raise ValueError(f"annual billing period [{period_start}, {period_end}) is not 12 months")
    return interval


def _elapsed_months(period_start: date, at: date) -> int:
    # The last month of a period anchored on 29 February can run one day past the
    # clamped 28th (28 Feb 2027 -> 29 Feb 2028); that day is still the 12th month.
    return min(months_between(period_start, at), MONTHS_PER_YEAR - 1)


def _prorate(price_cents: int, remaining: int, total: int, unit: ProrationUnit) -> Proration:
    return Proration(
        remaining_units=remaining,
        total_units=total,
        unit=unit,
        amount_cents=round_half_up(price_cents * remaining, total),
    )


def charge_proration(
    price_cents: int,
    period_start: date,
    period_end: date,
    at: date,
    interval: Interval,
) -> Proration:
    """The part of ``price_cents`` due for ``[at, period_end)``, current unit included.

    Day units: ``(period_end - at).days`` of ``(period_end - period_start).days``.
    Annual: ``12 - months elapsed`` of 12 months.
    """
    interval = _validate(price_cents, period_start, period_end, at, interval)
    if interval is Interval.YEAR:
        remaining = MONTHS_PER_YEAR - _elapsed_months(period_start, at)
        return _prorate(price_cents, remaining, MONTHS_PER_YEAR, "month")
    total = (period_end - period_start).days
    return _prorate(price_cents, (period_end - at).days, total, "day")


def removal_credit_proration(
    price_cents: int,
    period_start: date,
    period_end: date,
    at: date,
    interval: Interval,
) -> Proration:
    """The part of ``price_cents`` credited when a seat is removed on ``at``.

    Day units: from the removal day to the period end, the same span as
    :func:`charge_proration`. Annual: only the whole months after the current one
    (``12 - months elapsed - 1``, never negative).
    """
    interval = _validate(price_cents, period_start, period_end, at, interval)
    if interval is Interval.YEAR:
        remaining = MONTHS_PER_YEAR - _elapsed_months(period_start, at) - 1
        return _prorate(price_cents, max(remaining, 0), MONTHS_PER_YEAR, "month")
    total = (period_end - period_start).days
    return _prorate(price_cents, (period_end - at).days, total, "day")
