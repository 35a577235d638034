import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.credit_periods import CreditReset, credit_period, next_reset


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (date(2026, 3, 1), (date(2026, 3, 1), date(2026, 4, 1))),  # resets on the 1st
        (date(2026, 3, 10), (date(2026, 3, 1), date(2026, 4, 1))),
        (date(2026, 3, 31), (date(2026, 3, 1), date(2026, 4, 1))),
        (date(2026, 2, 28), (date(2026, 2, 1), date(2026, 3, 1))),
        (date(2028, 2, 29), (date(2028, 2, 1), date(2028, 3, 1))),
        (date(2026, 12, 31), (date(2026, 12, 1), date(2027, 1, 1))),
    ],
)
def test_calendar_reset_runs_from_the_1st_to_the_1st(at: date, expected: tuple[date, date]) -> None:
    # The renewal day is irrelevant for calendar resets.
    assert credit_period(CreditReset.CALENDAR, 17, at) == expected


def test_calendar_next_reset_is_the_1st_of_next_month() -> None:
    assert next_reset(CreditReset.CALENDAR, 3, date(2026, 3, 1)) == date(2026, 4, 1)
    assert next_reset(CreditReset.CALENDAR, 3, date(2026, 12, 15)) == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Seed 000: renewal on 3 March -> the balance resets on the 3rd of each month.
        (date(2026, 3, 10), (date(2026, 3, 3), date(2026, 4, 3))),
        (date(2026, 3, 2), (date(2026, 2, 3), date(2026, 3, 3))),
        (date(2026, 3, 3), (date(2026, 3, 3), date(2026, 4, 3))),
        (date(2026, 1, 2), (date(2025, 12, 3), date(2026, 1, 3))),
        (date(2026, 12, 3), (date(2026, 12, 3), date(2027, 1, 3))),
    ],
)
def test_renewal_reset_on_the_3rd(at: date, expected: tuple[date, date]) -> None:
    assert credit_period(CreditReset.RENEWAL, 3, at) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (date(2026, 4, 29), (date(2026, 3, 31), date(2026, 4, 30))),
        (date(2026, 4, 30), (date(2026, 4, 30), date(2026, 5, 31))),
        (date(2026, 5, 15), (date(2026, 4, 30), date(2026, 5, 31))),
        (date(2026, 5, 31), (date(2026, 5, 31), date(2026, 6, 30))),
        # Common year: 28 February.
        (date(2026, 2, 27), (date(2026, 1, 31), date(2026, 2, 28))),
        (date(2026, 2, 28), (date(2026, 2, 28), date(2026, 3, 31))),
        # Leap year: 29 February.
        (date(2028, 2, 28), (date(2028, 1, 31), date(2028, 2, 29))),
        (date(2028, 2, 29), (date(2028, 2, 29), date(2028, 3, 31))),
    ],
)
def test_renewal_on_the_31st_is_clamped_to_the_month_end(at: date, expected: tuple[date, date]) -> None:
    assert credit_period(CreditReset.RENEWAL, 31, at) == expected


@pytest.mark.parametrize(
    ("renewal_day", "at", "expected"),
    [
        (29, date(2026, 2, 28), (date(2026, 2, 28), date(2026, 3, 29))),
        (29, date(2026, 3, 28), (date(2026, 2, 28), date(2026, 3, 29))),
        (29, date(2028, 2, 28), (date(2028, 1, 29), date(2028, 2, 29))),
        (30, date(2026, 2, 28), (date(2026, 2, 28), date(2026, 3, 30))),
        (30, date(2026, 2, 27), (date(2026, 1, 30), date(2026, 2, 28))),
    ],
)
def test_renewal_on_the_29th_and_30th_in_february(
    renewal_day: int, at: date, expected: tuple[date, date]
) -> None:
    assert credit_period(CreditReset.RENEWAL, renewal_day, at) == expected


def test_renewal_next_reset() -> None:
    assert next_reset(CreditReset.RENEWAL, 31, date(2026, 4, 1)) == date(2026, 4, 30)
    assert next_reset(CreditReset.RENEWAL, 31, date(2026, 4, 30)) == date(2026, 5, 31)
    assert next_reset(CreditReset.RENEWAL, 3, date(2026, 3, 2)) == date(2026, 3, 3)


def test_stored_string_values_are_accepted() -> None:
    assert credit_period("renewal", 3, date(2026, 3, 10)) == (  # type: ignore[arg-type]
        date(2026, 3, 3),
        date(2026, 4, 3),
    )
    assert CreditReset("calendar") is CreditReset.CALENDAR


@pytest.mark.parametrize("renewal_day", [0, 32])
def test_impossible_renewal_day_is_rejected(renewal_day: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 31"):
        credit_period(CreditReset.RENEWAL, renewal_day, date(2026, 3, 10))


def test_unknown_reset_is_rejected() -> None:
    with pytest.raises(ValueError, match="weekly"):
        credit_period("weekly", 3, date(2026, 3, 10))  # type: ignore[arg-type]


@given(
    st.sampled_from(list(CreditReset)),
    st.integers(min_value=1, max_value=31),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 1)),
)
def test_credit_periods_contain_at_and_chain(reset: CreditReset, renewal_day: int, at: date) -> None:
    start, end = credit_period(reset, renewal_day, at)
    assert start <= at < end
    assert 28 <= (end - start).days <= 31
    assert next_reset(reset, renewal_day, at) == end
    # The next period starts exactly when this one ends, and every day of this
    # period maps to the same period.
    assert credit_period(reset, renewal_day, end)[0] == end
    assert credit_period(reset, renewal_day, end - timedelta(days=1)) == (start, end)
    assert credit_period(reset, renewal_day, start) == (start, end)
    expected_day = 1 if reset is CreditReset.CALENDAR else renewal_day
    for boundary in (start, end):
        last_day = calendar.monthrange(boundary.year, boundary.month)[1]
        assert boundary.day == min(expected_day, last_day)
