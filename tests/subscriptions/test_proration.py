import math
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.periods import Interval, add_interval, months_between, period_containing
from domain.proration import Proration, charge_proration, removal_credit_proration

PRO_SEAT_YEAR_CENTS = 8999  # 89,99 € per seat per year (docs/rules/plans.md#demo-catalog)
PRO_SEAT_MONTH_CENTS = 1299  # 12,99 € per seat per month


# --- Seed 002 examples (docs/rules/proration.md) ---------------------------------


def test_seed_example_1_annual_pro_seat_added_1_march_charges_10_of_12_months() -> None:
    anchor = date(2026, 1, 1)
    added_on = date(2026, 3, 1)
    start, end = period_containing(anchor, Interval.YEAR, added_on)
    assert (start, end) == (date(2026, 1, 1), date(2027, 1, 1))

    proration = charge_proration(PRO_SEAT_YEAR_CENTS, start, end, added_on, Interval.YEAR)

    assert proration.remaining_units == 10
    assert proration.total_units == 12
    assert proration.unit == "month"
    assert proration.fraction == Fraction(10, 12)
    assert proration.amount_cents == 7499  # 89,99 € × 10/12 = 74,991… → 74,99 €
    # The charge itself runs the day after (2 March); it is still March-December.
    next_day = charge_proration(PRO_SEAT_YEAR_CENTS, start, end, date(2026, 3, 2), Interval.YEAR)
    assert next_day == proration


def test_seed_example_2_monthly_seat_added_3_march_removed_18_march() -> None:
    start, end = period_containing(date(2026, 1, 1), Interval.MONTH, date(2026, 3, 3))
    assert (start, end) == (date(2026, 3, 1), date(2026, 4, 1))

    charge = charge_proration(PRO_SEAT_MONTH_CENTS, start, end, date(2026, 3, 3), Interval.MONTH)
    assert (charge.remaining_units, charge.total_units, charge.unit) == (29, 31, "day")
    assert charge.amount_cents == 1215  # 12,99 € × 29/31 = 12,152… → 12,15 €

    credit = removal_credit_proration(PRO_SEAT_MONTH_CENTS, start, end, date(2026, 3, 18), Interval.MONTH)
    # Credit for 18-31 March, removal day included.
    assert (credit.remaining_units, credit.total_units, credit.unit) == (14, 31, "day")
    assert credit.amount_cents == 587  # 12,99 € × 14/31 = 5,866… → 5,87 €


@pytest.mark.parametrize("day", range(1, 31))
def test_seed_example_3_annual_seat_removed_in_june_credits_july_to_december(day: int) -> None:
    removed_on = date(2026, 6, day)
    start, end = period_containing(date(2026, 1, 1), Interval.YEAR, removed_on)

    credit = removal_credit_proration(PRO_SEAT_YEAR_CENTS, start, end, removed_on, Interval.YEAR)

    assert credit.remaining_units == 6
    assert credit.total_units == 12
    assert credit.unit == "month"
    assert credit.amount_cents == 4500  # 89,99 € × 6/12 = 44,995 € → 45,00 € (half up)


# --- Other rules ---------------------------------------------------------------------


def test_annual_charge_and_credit_differ_by_the_current_month() -> None:
    start, end = date(2026, 1, 1), date(2027, 1, 1)
    at = date(2026, 6, 15)
    charge = charge_proration(12000, start, end, at, Interval.YEAR)
    credit = removal_credit_proration(12000, start, end, at, Interval.YEAR)
    assert (charge.remaining_units, charge.amount_cents) == (7, 7000)
    assert (credit.remaining_units, credit.amount_cents) == (6, 6000)


def test_annual_last_month() -> None:
    start, end = date(2026, 1, 1), date(2027, 1, 1)
    at = date(2026, 12, 31)
    assert charge_proration(12000, start, end, at, Interval.YEAR).remaining_units == 1
    credit = removal_credit_proration(12000, start, end, at, Interval.YEAR)
    assert (credit.remaining_units, credit.amount_cents) == (0, 0)


def test_annual_first_day_charges_the_whole_year() -> None:
    start, end = date(2026, 1, 1), date(2027, 1, 1)
    charge = charge_proration(8999, start, end, start, Interval.YEAR)
    assert (charge.remaining_units, charge.amount_cents) == (12, 8999)
    credit = removal_credit_proration(8999, start, end, start, Interval.YEAR)
    # 89,99 € × 11/12 = 82,491… → 82,49 €
    assert (credit.remaining_units, credit.amount_cents) == (11, 8249)


def test_annual_period_ending_on_29_february_counts_the_extra_day_in_month_12() -> None:
    # Anchored on 29 February 2024: the 2027 period runs 28 Feb 2027 -> 29 Feb 2028.
    start, end = period_containing(date(2024, 2, 29), Interval.YEAR, date(2028, 2, 28))
    assert (start, end) == (date(2027, 2, 28), date(2028, 2, 29))
    charge = charge_proration(12000, start, end, date(2028, 2, 28), Interval.YEAR)
    assert (charge.remaining_units, charge.amount_cents) == (1, 1000)
    credit = removal_credit_proration(12000, start, end, date(2028, 2, 28), Interval.YEAR)
    assert credit.remaining_units == 0


def test_weekly_uses_seven_day_units() -> None:
    start, end = date(2026, 3, 2), date(2026, 3, 9)
    charge = charge_proration(499, start, end, date(2026, 3, 4), Interval.WEEK)
    assert (charge.remaining_units, charge.total_units, charge.unit) == (5, 7, "day")
    assert charge.amount_cents == 356  # 356.43


def test_february_has_28_day_units() -> None:
    start, end = date(2026, 2, 1), date(2026, 3, 1)
    charge = charge_proration(2800, start, end, date(2026, 2, 15), Interval.MONTH)
    assert (charge.remaining_units, charge.total_units, charge.amount_cents) == (14, 28, 1400)


def test_free_price_prorates_to_zero() -> None:
    charge = charge_proration(0, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 5), "month")  # type: ignore[arg-type]
    assert charge.amount_cents == 0
    assert charge.remaining_units == 27


def test_describe() -> None:
    assert Proration(10, 12, "month", 7499).describe() == "10 of 12 months"
    assert Proration(14, 31, "day", 587).describe() == "14 of 31 days"


@pytest.mark.parametrize(
    "at",
    [date(2026, 2, 28), date(2026, 4, 1), date(2026, 5, 1)],
    ids=["before-start", "on-end", "after-end"],
)
@pytest.mark.parametrize("prorate", [charge_proration, removal_credit_proration])
def test_date_outside_the_period_is_rejected(at: date, prorate: object) -> None:
    with pytest.raises(ValueError, match=r"outside the billing period \[2026-03-01, 2026-04-01\)"):
        prorate(1299, date(2026, 3, 1), date(2026, 4, 1), at, Interval.MONTH)  # type: ignore[operator]


def test_negative_price_is_rejected() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        charge_proration(-1, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 3), Interval.MONTH)


def test_float_price_is_rejected() -> None:
    with pytest.raises(TypeError):
        charge_proration(12.99, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 3), Interval.MONTH)  # type: ignore[arg-type]


def test_empty_period_is_rejected() -> None:
    with pytest.raises(ValueError, match="not after its start"):
        charge_proration(100, date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 1), Interval.MONTH)


def test_annual_proration_needs_a_twelve_month_period() -> None:
    with pytest.raises(ValueError, match="not 12 months"):
        charge_proration(100, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 3), Interval.YEAR)


@pytest.mark.parametrize(
    ("remaining", "total", "unit"),
    [(13, 12, "month"), (-1, 12, "month"), (1, 0, "day"), (1, 7, "week")],
)
def test_proration_rejects_inconsistent_units(remaining: int, total: int, unit: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Proration(remaining, total, unit, 0)  # type: ignore[arg-type]


# --- Properties ----------------------------------------------------------------------

prices = st.integers(min_value=0, max_value=10_000_000)
intervals = st.sampled_from(list(Interval))


@st.composite
def billing_periods(
    draw: st.DrawFn, interval: st.SearchStrategy[Interval] = intervals
) -> tuple[Interval, date, date, date]:
    """(interval, period_start, period_end, at) for a subscription anchored anywhere."""
    chosen = draw(interval)
    anchor = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
    at = anchor + timedelta(days=draw(st.integers(min_value=0, max_value=4000)))
    start, end = period_containing(anchor, chosen, at)
    return chosen, start, end, at


@given(prices, billing_periods())
def test_fraction_is_within_zero_and_one(price: int, period: tuple[Interval, date, date, date]) -> None:
    interval, start, end, at = period
    for prorate in (charge_proration, removal_credit_proration):
        proration = prorate(price, start, end, at, interval)
        assert 0 <= proration.fraction <= 1
        assert 0 <= proration.amount_cents <= price
        # The nearest cent, a half cent going up: within half a cent of the exact amount,
        # and exactly half a cent away only above it.
        exact = price * proration.fraction
        assert abs(proration.amount_cents - exact) <= Fraction(1, 2)
        if abs(proration.amount_cents - exact) == Fraction(1, 2):
            assert proration.amount_cents > exact
    # Adding always charges at least the current unit.
    assert charge_proration(price, start, end, at, interval).remaining_units >= 1


@given(prices, prices, billing_periods())
def test_plan_change_charge_and_credit_of_the_same_span_net_to_zero(
    old_price: int, new_price: int, period: tuple[Interval, date, date, date]
) -> None:
    interval, start, end, at = period
    charge_new = charge_proration(new_price, start, end, at, interval)
    credit_old = charge_proration(old_price, start, end, at, interval)
    same_plan_charge = charge_proration(old_price, start, end, at, interval)
    assert same_plan_charge.amount_cents - credit_old.amount_cents == 0
    assert charge_new.remaining_units == credit_old.remaining_units
    net = charge_new.amount_cents - credit_old.amount_cents
    # An upgrade never produces a credit, a downgrade never an invoice.
    if new_price >= old_price:
        assert net >= 0
    else:
        assert net <= 0


@given(prices, billing_periods(st.sampled_from([Interval.WEEK, Interval.MONTH])))
def test_seat_added_and_removed_the_same_day_nets_to_zero(
    price: int, period: tuple[Interval, date, date, date]
) -> None:
    interval, start, end, at = period
    charge = charge_proration(price, start, end, at, interval)
    credit = removal_credit_proration(price, start, end, at, interval)
    assert charge.amount_cents - credit.amount_cents == 0


@given(prices, billing_periods())
def test_splitting_a_period_sums_to_the_whole_price_within_one_cent(
    price: int, period: tuple[Interval, date, date, date]
) -> None:
    interval, start, end, split = period
    tail = charge_proration(price, start, end, split, interval)
    head_units = tail.total_units - tail.remaining_units
    # The head charged on its own, rounded half up here (prices are never negative).
    head = math.floor(Fraction(price * head_units, tail.total_units) + Fraction(1, 2))
    assert abs(head + tail.amount_cents - price) <= 1
    whole = charge_proration(price, start, end, start, interval)
    assert whole.amount_cents == price


@given(prices, billing_periods(st.just(Interval.YEAR)))
def test_annual_uses_whole_months_whatever_the_day(
    price: int, period: tuple[Interval, date, date, date]
) -> None:
    _, start, end, at = period
    charge = charge_proration(price, start, end, at, Interval.YEAR)
    credit = removal_credit_proration(price, start, end, at, Interval.YEAR)
    assert charge.unit == credit.unit == "month"
    assert charge.total_units == credit.total_units == 12
    assert isinstance(charge.remaining_units, int)
    assert 1 <= charge.remaining_units <= 12
    assert credit.remaining_units == charge.remaining_units - 1
    # Every day of the same billing month gives the same result as its first day.
    elapsed = months_between(start, at)
    month_start = add_interval(start, Interval.MONTH, anchor_day=start.day, count=elapsed)
    assert charge_proration(price, start, end, month_start, Interval.YEAR) == charge
    assert removal_credit_proration(price, start, end, month_start, Interval.YEAR) == credit


@given(prices, billing_periods(), st.integers(min_value=0, max_value=400))
def test_later_dates_never_charge_or_credit_more(
    price: int, period: tuple[Interval, date, date, date], later_by: int
) -> None:
    interval, start, end, at = period
    later = at + timedelta(days=later_by)
    assume(later < end)
    for prorate in (charge_proration, removal_credit_proration):
        earlier_amount = prorate(price, start, end, at, interval).amount_cents
        assert prorate(price, start, end, later, interval).amount_cents <= earlier_amount
