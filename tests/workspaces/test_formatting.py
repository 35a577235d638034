from datetime import date

import pytest

from workspaces.formatting import (
    format_compact,
    format_date,
    format_money,
    format_number,
    format_percent,
)

NBSP = "\u00a0"  # NO-BREAK SPACE: French before "€", "%" and compact suffixes
NNBSP = "\u202f"  # NARROW NO-BREAK SPACE: French digit grouping


def normalise_spaces(text: str) -> str:
    return text.replace(NBSP, " ").replace(NNBSP, " ")


def test_format_money_french_keeps_babel_no_break_space() -> None:
    assert format_money(15900, "EUR", "fr") == f"159,00{NBSP}€"
    assert normalise_spaces(format_money(15900, "EUR", "fr")) == "159,00 €"


@pytest.mark.parametrize(
    ("amount_cents", "currency", "locale", "expected"),
    [
        (15900, "EUR", "en", "€159.00"),
        (15900, "EUR", "en-us", "€159.00"),
        (8999, "EUR", "fr", "89,99 €"),
        (174900, "EUR", "fr", "1 749,00 €"),
        (174900, "EUR", "en", "€1,749.00"),
        (5, "EUR", "fr", "0,05 €"),
        (-1299, "EUR", "fr", "-12,99 €"),
        (0, "EUR", "en", "€0.00"),
        (1500, "JPY", "en", "¥1,500"),  # no minor unit: amount_cents are yen
        (15900, "USD", "en-US", "$159.00"),
    ],
)
def test_format_money(amount_cents: int, currency: str, locale: str, expected: str) -> None:
    assert normalise_spaces(format_money(amount_cents, currency, locale)) == expected


def test_format_number() -> None:
    assert format_number(3_000_000, "fr") == f"3{NNBSP}000{NNBSP}000"
    assert format_number(3_000_000, "en") == "3,000,000"
    assert format_number(50, "fr") == "50"


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (22_600_000, "fr", f"22,6{NBSP}M"),
        (28_000_000, "fr", f"28{NBSP}M"),
        (22_600_000, "en", "22.6M"),
        (28_000_000, "en", "28M"),
        (999, "en", "999"),
        # Half away from zero, as everywhere in the project (banker's gives 1.2K).
        (1_250, "en", "1.3K"),
        (1_250, "fr", f"1,3{NBSP}k"),
    ],
)
def test_format_compact(value: int, locale: str, expected: str) -> None:
    assert format_compact(value, locale) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "locale", "expected"),
    [
        (22_571, 28_000, "fr", f"80,61{NBSP}%"),
        (22_571, 28_000, "en", "80.61%"),
        (5, 10, "fr", f"50,00{NBSP}%"),
        (1, 1, "en", "100.00%"),
        (0, 10, "en", "0.00%"),
        (7, 0, "en", "0.00%"),  # nothing allotted
        (7, 0, "fr", f"0,00{NBSP}%"),
        (1, 20_000, "en", "0.01%"),  # 0.005 % -> 0.01 %, half up
        (1, 3, "en", "33.33%"),
        (2, 3, "en", "66.67%"),
    ],
)
def test_format_percent(numerator: int, denominator: int, locale: str, expected: str) -> None:
    assert format_percent(numerator, denominator, locale) == expected


def test_format_date() -> None:
    assert format_date(date(2025, 10, 2), "fr") == "2 oct. 2025"
    assert format_date(date(2025, 10, 2), "en") == "Oct 2, 2025"
    assert format_date(date(2025, 10, 2), "fr", "long") == "2 octobre 2025"
    assert format_date(date(2025, 10, 2), "en-us", "short") == "10/2/25"


def test_unknown_locale_is_rejected() -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        format_number(1, "not a locale")
