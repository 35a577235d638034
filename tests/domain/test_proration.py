"""Prorations: their words and the inconsistent ones they refuse (domain.proration)."""

from datetime import date

import pytest

from domain.periods import Interval
from domain.proration import Proration, charge_proration


def test_a_single_unit_is_singular_and_more_are_plural():
    # The words of an invoice line ("10 of 12 months × 89,99 €").
    assert Proration(1, 1, "day", 499).describe() == "1 of 1 day"
    assert Proration(1, 7, "day", 71).describe() == "1 of 7 days"
    assert Proration(0, 12, "month", 0).describe() == "0 of 12 months"


@pytest.mark.parametrize(
    ("remaining", "total", "unit", "message"),
    [
        (0, 0, "day", "total_units must be positive, got 0"),
        (1, 7, "week", "unit must be 'day' or 'month', got 'week'"),
        (8, 7, "day", "remaining_units must be between 0 and 7, got 8"),
    ],
)
def test_an_inconsistent_proration_is_refused_saying_why(remaining, total, unit, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        Proration(remaining, total, unit, 0)


def test_a_price_that_is_not_an_int_is_refused_naming_it():
    with pytest.raises(TypeError, match=r"^price_cents must be an int, got float$"):
        charge_proration(12.99, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 3), Interval.MONTH)  # type: ignore[arg-type]
