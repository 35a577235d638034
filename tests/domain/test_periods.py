"""Billing period dates: the days they refuse, named in the error (domain.periods)."""

from datetime import date

import pytest

from domain.periods import Interval, add_interval, clamp_day


def test_a_day_that_is_not_an_int_is_refused_naming_it():
    with pytest.raises(TypeError, match=r"^day must be an int, got float$"):
        clamp_day(2026, 2, 28.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("day", [0, 32])
def test_an_impossible_day_is_refused_naming_it(day):
    with pytest.raises(ValueError, match=rf"^day must be between 1 and 31, got {day}$"):
        clamp_day(2026, 2, day)


def test_an_impossible_anchor_day_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"^anchor_day must be between 1 and 31, got 32$"):
        add_interval(date(2026, 1, 31), Interval.MONTH, anchor_day=32)
