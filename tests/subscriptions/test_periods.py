import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.periods import Interval, add_interval, clamp_day, months_between, period_containing


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"),
    [
        (2026, 4, 31, date(2026, 4, 30)),
        (2026, 2, 31, date(2026, 2, 28)),
        (2026, 2, 29, date(2026, 2, 28)),
        (2028, 2, 30, date(2028, 2, 29)),
        (2028, 2, 29, date(2028, 2, 29)),
        (2026, 3, 31, date(2026, 3, 31)),
        (2026, 3, 3, date(2026, 3, 3)),
    ],
)
def test_clamp_day(year: int, month: int, day: int, expected: date) -> None:
    assert clamp_day(year, month, day) == expected


@pytest.mark.parametrize("day", [0, 32, -1])
def test_clamp_day_rejects_impossible_days(day: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 31"):
        clamp_day(2026, 1, day)


def test_monthly_anchor_on_the_31st_survives_short_months() -> None:
    dates = [date(2026, 1, 31)]
    for _ in range(4):
        dates.append(add_interval(dates[-1], Interval.MONTH, anchor_day=31))
    assert dates == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]


def test_monthly_anchor_on_the_31st_in_a_leap_year() -> None:
    february = add_interval(date(2028, 1, 31), Interval.MONTH, anchor_day=31)
    assert february == date(2028, 2, 29)
    assert add_interval(february, Interval.MONTH, anchor_day=31) == date(2028, 3, 31)


def test_monthly_count_jumps_directly_to_the_clamped_day() -> None:
    start = date(2026, 1, 31)
    assert add_interval(start, Interval.MONTH, anchor_day=31, count=3) == date(2026, 4, 30)
    assert add_interval(start, Interval.MONTH, anchor_day=31, count=0) == start
    assert add_interval(start, Interval.MONTH, anchor_day=31, count=-2) == date(2025, 11, 30)


def test_monthly_rolls_over_the_year() -> None:
    assert add_interval(date(2025, 12, 15), Interval.MONTH, anchor_day=15) == date(2026, 1, 15)
    assert add_interval(date(2025, 11, 30), Interval.MONTH, anchor_day=30, count=3) == date(2026, 2, 28)


def test_weekly_adds_seven_days_per_count() -> None:
    start = date(2026, 2, 25)
    assert add_interval(start, Interval.WEEK, anchor_day=25) == date(2026, 3, 4)
    assert add_interval(start, Interval.WEEK, anchor_day=25, count=2) == date(2026, 3, 11)


def test_yearly_anchor_on_29_february() -> None:
    anchor = date(2024, 2, 29)
    assert add_interval(anchor, Interval.YEAR, anchor_day=29) == date(2025, 2, 28)
    assert add_interval(anchor, Interval.YEAR, anchor_day=29, count=4) == date(2028, 2, 29)
    # Chained from a clamped date, the anchor day brings 29 February back.
    assert add_interval(date(2027, 2, 28), Interval.YEAR, anchor_day=29) == date(2028, 2, 29)


def test_yearly_keeps_the_month_and_day() -> None:
    assert add_interval(date(2026, 1, 1), Interval.YEAR, anchor_day=1) == date(2027, 1, 1)
    assert add_interval(date(2026, 3, 31), Interval.YEAR, anchor_day=31, count=2) == date(2028, 3, 31)


def test_add_interval_accepts_the_stored_string_value() -> None:
    assert add_interval(date(2026, 1, 31), "month", anchor_day=31) == date(2026, 2, 28)  # type: ignore[arg-type]


@pytest.mark.parametrize("anchor_day", [0, 32])
def test_add_interval_rejects_impossible_anchor_days(anchor_day: int) -> None:
    with pytest.raises(ValueError, match="anchor_day"):
        add_interval(date(2026, 1, 1), Interval.MONTH, anchor_day=anchor_day)


@pytest.mark.parametrize(
    ("start", "at", "expected"),
    [
        (date(2026, 1, 31), date(2026, 2, 28), 1),
        (date(2026, 1, 31), date(2026, 2, 27), 0),
        (date(2026, 1, 31), date(2026, 3, 30), 1),
        (date(2026, 1, 31), date(2026, 3, 31), 2),
        (date(2028, 1, 31), date(2028, 2, 28), 0),
        (date(2028, 1, 31), date(2028, 2, 29), 1),
        (date(2026, 1, 1), date(2026, 3, 1), 2),
        (date(2026, 1, 1), date(2026, 2, 28), 1),
        (date(2026, 1, 1), date(2026, 1, 1), 0),
        (date(2026, 1, 1), date(2026, 12, 31), 11),
        (date(2026, 1, 1), date(2027, 1, 1), 12),
        (date(2026, 1, 15), date(2026, 6, 14), 4),
        (date(2026, 1, 15), date(2026, 6, 15), 5),
    ],
)
def test_months_between(start: date, at: date, expected: int) -> None:
    assert months_between(start, at) == expected


def test_months_between_rejects_dates_before_start() -> None:
    with pytest.raises(ValueError, match="before"):
        months_between(date(2026, 3, 1), date(2026, 2, 28))


@pytest.mark.parametrize(
    ("anchor", "interval", "at", "expected"),
    [
        (date(2026, 1, 31), Interval.MONTH, date(2026, 1, 31), (date(2026, 1, 31), date(2026, 2, 28))),
        (date(2026, 1, 31), Interval.MONTH, date(2026, 2, 27), (date(2026, 1, 31), date(2026, 2, 28))),
        (date(2026, 1, 31), Interval.MONTH, date(2026, 2, 28), (date(2026, 2, 28), date(2026, 3, 31))),
        (date(2026, 1, 31), Interval.MONTH, date(2026, 4, 30), (date(2026, 4, 30), date(2026, 5, 31))),
        (date(2026, 1, 31), Interval.MONTH, date(2026, 4, 29), (date(2026, 3, 31), date(2026, 4, 30))),
        (date(2026, 3, 1), Interval.MONTH, date(2026, 3, 18), (date(2026, 3, 1), date(2026, 4, 1))),
        (date(2026, 1, 1), Interval.YEAR, date(2026, 6, 20), (date(2026, 1, 1), date(2027, 1, 1))),
        (date(2026, 1, 1), Interval.YEAR, date(2027, 1, 1), (date(2027, 1, 1), date(2028, 1, 1))),
        (date(2024, 2, 29), Interval.YEAR, date(2025, 3, 1), (date(2025, 2, 28), date(2026, 2, 28))),
        (date(2024, 2, 29), Interval.YEAR, date(2028, 2, 28), (date(2027, 2, 28), date(2028, 2, 29))),
        (date(2024, 2, 29), Interval.YEAR, date(2028, 2, 29), (date(2028, 2, 29), date(2029, 2, 28))),
        (date(2026, 3, 2), Interval.WEEK, date(2026, 3, 2), (date(2026, 3, 2), date(2026, 3, 9))),
        (date(2026, 3, 2), Interval.WEEK, date(2026, 3, 15), (date(2026, 3, 9), date(2026, 3, 16))),
        (date(2026, 3, 2), Interval.WEEK, date(2026, 3, 16), (date(2026, 3, 16), date(2026, 3, 23))),
    ],
)
def test_period_containing(anchor: date, interval: Interval, at: date, expected: tuple[date, date]) -> None:
    assert period_containing(anchor, interval, at) == expected


def test_period_containing_rejects_dates_before_the_anchor() -> None:
    with pytest.raises(ValueError, match="before the subscription anchor"):
        period_containing(date(2026, 3, 1), Interval.MONTH, date(2026, 2, 28))


anchors = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
intervals = st.sampled_from(list(Interval))


@given(anchors, intervals, st.integers(min_value=0, max_value=3000))
def test_period_containing_contains_at_and_follows_the_anchor(
    anchor: date, interval: Interval, offset_days: int
) -> None:
    at = anchor + timedelta(days=offset_days)
    start, end = period_containing(anchor, interval, at)
    assert start <= at < end
    assert anchor <= start
    assert end == add_interval(start, interval, anchor_day=anchor.day)
    if interval is not Interval.WEEK:
        last_day = calendar.monthrange(start.year, start.month)[1]
        assert start.day == min(anchor.day, last_day)
    # The period before this one ends exactly where this one starts.
    if start > anchor:
        assert period_containing(anchor, interval, start - timedelta(days=1))[1] == start


@given(anchors, st.integers(min_value=0, max_value=600))
def test_months_between_counts_clamped_anchor_steps(start: date, count: int) -> None:
    step = add_interval(start, Interval.MONTH, anchor_day=start.day, count=count)
    assert months_between(start, step) == count
    if count > 0:
        assert months_between(start, step - timedelta(days=1)) == count - 1
