"""The one rounding rule, on the figures of docs/rules/proration.md#rounding, and the
arguments it refuses."""

import re

import pytest

from domain.money import round_half_up


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (8_999 * 6, 12, 4_500),  # 89,99 € × 6/12 = 44,995 € → 45,00 € (a half cent goes up)
        (-8_999 * 6, 12, -4_500),  # the credit reversing it: −44,995 € → −45,00 €
        (8_999 * 10, 12, 7_499),  # 89,99 € × 10/12 = 74,991… → 74,99 €
        (7_499 * 2_000, 10_000, 1_500),  # VAT 74,99 € × 20 % = 14,998 € → 15,00 €
        (-587 * 2_000, 10_000, -117),  # VAT on a −5,87 € credit: −1,174 € → −1,17 €
        (1, 2, 1),  # 0,5 ct → 1 ct
        (-1, 2, -1),  # −0,5 ct → −1 ct
    ],
)
def test_the_documented_examples_round_half_away_from_zero(numerator, denominator, expected):
    assert round_half_up(numerator, denominator) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "message"),
    [
        (12.99, 1, "numerator must be an int, got float"),
        (True, 1, "numerator must be an int, got bool"),
        (1_299, 31.0, "denominator must be an int, got float"),
    ],
)
def test_a_non_integer_is_refused_naming_the_argument(numerator, denominator, message):
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        round_half_up(numerator, denominator)


def test_a_zero_denominator_is_refused_saying_so():
    with pytest.raises(ZeroDivisionError, match=r"^round_half_up: denominator is zero$"):
        round_half_up(1_299, 0)
