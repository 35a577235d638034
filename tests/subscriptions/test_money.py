from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import round_half_up


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
