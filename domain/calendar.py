"""Instants and billing days, written once (docs/rules/billing-calendar.md#instants-and-days).

Every moment is stored as an instant; every rule that speaks of a day reads the date of
that instant in the billing time zone, and billing periods begin and end at midnight of
their day. The zone is a parameter: it is UTC for now
(docs/rules/billing-calendar.md#billing-time-zone: the workspace setting does not exist
yet), so callers that pass none keep today's behaviour.

Pure: no clock is read here, the caller passes the instant or the day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

#: The zone billing days are read in until workspaces have their own setting.
BILLING_TIME_ZONE: tzinfo = UTC


def day_of(moment: datetime, zone: tzinfo = BILLING_TIME_ZONE) -> date:
    """The billing day of an aware instant: its date in ``zone``."""
    return moment.astimezone(zone).date()


def midnight(day: date, zone: tzinfo = BILLING_TIME_ZONE) -> datetime:
    """The instant ``day`` begins in ``zone``: where billing periods start and end."""
    return datetime.combine(day, time.min, tzinfo=zone)
