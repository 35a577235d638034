"""A saved card's validity (docs/rules/payments.md#card-expiry-notices): pure dates."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

#: The expiry notice goes out this many days before the card's last valid day.
EXPIRY_NOTICE_DAYS = 30


def valid_through(exp_month: int, exp_year: int) -> date:
    """A card is valid through the last day of its expiry month."""
    return date(exp_year, exp_month, calendar.monthrange(exp_year, exp_month)[1])


def expired(exp_month: int, exp_year: int, today: date) -> bool:
    return today > valid_through(exp_month, exp_year)


def expires_soon(exp_month: int, exp_year: int, today: date) -> bool:
    """Within the notice window: from 30 days before its last valid day, through that day."""
    last = valid_through(exp_month, exp_year)
    return last - timedelta(days=EXPIRY_NOTICE_DAYS) <= today <= last
