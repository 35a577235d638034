"""Instants and billing days, written once (docs/rules/billing-calendar.md#instants-and-days).

Every moment is stored as an instant in UTC; every rule that speaks of a day reads the
date of that instant in the workspace's billing time zone, and billing periods begin
and end at midnight of their day in that zone. The zone is always passed in by the
caller (docs/rules/billing-calendar.md#billing-time-zone): there is no default, so a
call that forgets it does not type-check.

Pure: no clock is read here, the caller passes the instant or the day, and the zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo


def day_of(moment: datetime, zone: tzinfo) -> date:
    """The billing day of an aware instant: its date in ``zone``."""
    return moment.astimezone(zone).date()


def midnight(day: date, zone: tzinfo) -> datetime:
    """The instant ``day`` begins in ``zone``, in UTC: where billing periods start and end."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def moved_midnight(boundary: datetime, old: tzinfo, new: tzinfo) -> datetime:
    """A period boundary stored in ``old`` (the midnight its day began there) moved to
    the midnight of the same day in ``new``: the day it stands for does not change when
    the billing time zone does (docs/rules/billing-calendar.md#changing-the-zone)."""
    return midnight(day_of(boundary, old), new)
