from dataclasses import FrozenInstanceError
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import CurrencyMismatch, Money, round_half_up


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 2, 3),  # 2.5 -> 3 (banker's rounding would give 2)
        (3, 2, 2),  # 1.5 -> 2
        (1, 2, 1),  # 0.5 -> 1
        (-5, 2, -3),  # half away from zero
        (-1, 2, -1),
        (5, -2, -3),
        (-5, -2, 3),
        (7, 3, 2),  # 2.33 -> 2
        (8, 3, 3),  # 2.67 -> 3
        (-7, 3, -2),
        (0, 7, 0),
        (8999 * 10, 12, 7499),  # 7499.17
        (12, 12, 1),
    ],
)
def test_round_half_up(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up(numerator, denominator) == expected


def test_round_half_up_rejects_zero_denominator() -> None:
    with pytest.raises(ZeroDivisionError):
        round_half_up(1, 0)


@pytest.mark.parametrize(("numerator", "denominator"), [(2.5, 1), (5, 2.0), (True, 1)])
def test_round_half_up_rejects_non_integers(numerator: object, denominator: object) -> None:
    with pytest.raises(TypeError):
        round_half_up(numerator, denominator)  # type: ignore[arg-type]


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=-(10**6), max_value=10**6).filter(lambda d: d != 0),
)
def test_round_half_up_is_nearest_with_ties_away_from_zero(numerator: int, denominator: int) -> None:
    exact = Fraction(numerator, denominator)
    rounded = round_half_up(numerator, denominator)
    error = abs(exact - rounded)
    assert error <= Fraction(1, 2)
    if error == Fraction(1, 2):
        assert abs(rounded) > abs(exact)


def test_vat_twenty_percent_of_159_euros() -> None:
    assert Money(15900, "EUR").percent(2000) == Money(3180, "EUR")


@pytest.mark.parametrize(
    ("amount", "basis_points", "expected"),
    [
        (15, 1000, 2),  # 1.5 cents -> 2
        (25, 1000, 3),  # 2.5 cents -> 3, not 2
        (-25, 1000, -3),  # a credit rounds the same way, away from zero
        (24, 1000, 2),  # 2.4 cents -> 2
        (1, 5000, 1),  # 0.5 cent -> 1
    ],
)
def test_percent_rounds_half_cents_up(amount: int, basis_points: int, expected: int) -> None:
    assert Money(amount, "EUR").percent(basis_points).amount_cents == expected


def test_scaled_rounds_half_up() -> None:
    assert Money(8999, "EUR").scaled(10, 12) == Money(7499, "EUR")
    assert Money(3, "EUR").scaled(1, 2) == Money(2, "EUR")
    assert Money(1299, "EUR").scaled(29, 31) == Money(1215, "EUR")  # 1215.19


def test_arithmetic() -> None:
    a = Money(15900, "EUR")
    b = Money(1500, "EUR")
    assert a + b == Money(17400, "EUR")
    assert a - b == Money(14400, "EUR")
    assert b - a == Money(-14400, "EUR")
    assert -a == Money(-15900, "EUR")
    assert Money.zero("EUR") == Money(0, "EUR")
    assert Money.zero("USD").currency == "USD"
    assert Money.zero("EUR").is_zero
    assert not a.is_zero
    assert (a - a).is_zero


def test_comparison() -> None:
    small = Money(100, "EUR")
    large = Money(200, "EUR")
    assert small < large
    assert small <= large
    assert small <= Money(100, "EUR")
    assert large > small
    assert large >= small
    assert not large < small
    assert sorted([large, small]) == [small, large]
    assert max(small, large) == large


def test_mixing_currencies_raises_currency_mismatch() -> None:
    euros = Money(100, "EUR")
    dollars = Money(100, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = euros + dollars
    with pytest.raises(CurrencyMismatch):
        _ = euros - dollars
    with pytest.raises(CurrencyMismatch):
        _ = euros < dollars
    with pytest.raises(CurrencyMismatch):
        _ = euros >= dollars
    assert issubclass(CurrencyMismatch, ValueError)
    # Equality is not arithmetic: amounts in two currencies are simply different.
    assert euros != dollars


@pytest.mark.parametrize("amount", [1.0, 159.99, True, "100", None])
def test_amount_must_be_an_int(amount: object) -> None:
    with pytest.raises(TypeError):
        Money(amount, "EUR")  # type: ignore[arg-type]


def test_float_rejected_in_percent_and_scaled() -> None:
    with pytest.raises(TypeError):
        Money(100, "EUR").percent(20.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(100, "EUR").scaled(1, 2.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["eur", "Eur", "EURO", "EU", "E1R", "", "ÉUR"])
def test_currency_must_be_three_upper_case_letters(currency: str) -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(100, currency)


def test_adding_a_plain_int_is_not_supported() -> None:
    with pytest.raises(TypeError):
        _ = Money(100, "EUR") + 1


def test_money_is_immutable_and_hashable() -> None:
    price = Money(100, "EUR")
    with pytest.raises(FrozenInstanceError):
        price.amount_cents = 200  # type: ignore[misc]
    assert {price, Money(100, "EUR")} == {price}


@given(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.integers(min_value=-(10**9), max_value=10**9),
)
def test_addition_and_subtraction_are_inverse(a: int, b: int) -> None:
    x = Money(a, "EUR")
    y = Money(b, "EUR")
    assert (x + y) - y == x
    assert x - y == x + (-y)
