"""Billing days read in a time zone (docs/rules/billing-calendar.md#example-just-after-midnight)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from domain.calendar import day_of, midnight, moved_midnight

PARIS = ZoneInfo("Europe/Paris")


def test_just_after_midnight_in_paris_is_already_the_next_day():
    # 1 March, 00:30 in Paris (UTC+1 in winter) is 28 February, 23:30 UTC.
    moment = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    assert day_of(moment, PARIS) == date(2026, 3, 1)
    assert day_of(moment, UTC) == date(2026, 2, 28)


def test_in_summer_paris_is_two_hours_ahead():
    # 1 July, 00:30 in Paris (UTC+2) is 30 June, 22:30 UTC.
    assert day_of(datetime(2026, 6, 30, 22, 30, tzinfo=UTC), PARIS) == date(2026, 7, 1)
    assert day_of(datetime(2026, 6, 30, 21, 59, tzinfo=UTC), PARIS) == date(2026, 6, 30)


def test_a_billing_day_begins_at_midnight_in_its_zone():
    assert midnight(date(2026, 3, 1), PARIS) == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert midnight(date(2026, 7, 1), PARIS) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    assert midnight(date(2026, 3, 1), UTC) == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


NEW_YORK = ZoneInfo("America/New_York")


def test_midnight_is_given_in_utc():
    # The instant is the same whatever zone it is written in; stored values are UTC.
    assert midnight(date(2026, 3, 1), PARIS).tzinfo is UTC


def test_a_boundary_moved_to_another_zone_keeps_its_day():
    # 1 April began at 22:00 UTC on 31 March in Paris; in New York (UTC−4 in April) it
    # begins at 04:00 UTC on 1 April: the day the boundary stands for does not change.
    paris_april_1 = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert moved_midnight(paris_april_1, PARIS, NEW_YORK) == datetime(2026, 4, 1, 4, 0, tzinfo=UTC)
    assert moved_midnight(paris_april_1, PARIS, UTC) == datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
    # Moving back returns the first boundary.
    new_york_april_1 = datetime(2026, 4, 1, 4, 0, tzinfo=UTC)
    assert moved_midnight(new_york_april_1, NEW_YORK, PARIS) == paris_april_1
