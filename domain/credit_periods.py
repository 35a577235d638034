"""AI credit allowance periods (docs/rules/credits.md#reset,
docs/rules/billing-calendar.md#credit-periods).

Allowances are monthly, whatever the billing interval (an annual plan renewed on
3 March resets on the 3rd of every month). A period is a half-open
``[start, end)`` range of dates:

* ``calendar`` resets on the 1st of each calendar month (Free, Education,
  Enterprise);
* ``renewal`` resets each month on the subscription's renewal day of month,
  clamped to the month's last day: renewal on the 31st resets on 30 April,
  28/29 February, then 31 May again.

Pure: the caller passes the date of interest.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from domain.periods import Interval, add_interval, clamp_day


class CreditReset(StrEnum):
    CALENDAR = "calendar"
    RENEWAL = "renewal"


def credit_period(reset: CreditReset, renewal_day: int, at: date) -> tuple[date, date]:
    """The ``[start, end)`` credit period containing ``at``.

    ``renewal_day`` (1-31) is the subscription's day of month; it is ignored for
    calendar resets.
    """
    reset = CreditReset(reset)
    if reset is CreditReset.CALENDAR:
        start = date(at.year, at.month, 1)
        return start, add_interval(start, Interval.MONTH, anchor_day=1)
    this_month_reset = clamp_day(at.year, at.month, renewal_day)
    if at >= this_month_reset:
        start = this_month_reset
    else:
        start = add_interval(this_month_reset, Interval.MONTH, anchor_day=renewal_day, count=-1)
    return start, add_interval(start, Interval.MONTH, anchor_day=renewal_day)


def period_over(period_end: date | None, today: date) -> bool:
    """Whether the credit period ending on ``period_end`` (exclusive; ``None`` when no
    allowance was ever granted) is over on ``today``: its allowance counts as none and
    the next one is due."""
    return period_end is None or period_end <= today


def next_reset(reset: CreditReset, renewal_day: int, at: date) -> date:
    """The date the allowance in force on ``at`` expires and a new one is granted."""
    return credit_period(reset, renewal_day, at)[1]
