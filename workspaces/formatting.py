"""Locale formatting of money, numbers, percentages and dates (Babel / CLDR).

The one place where values become display strings; templates, PDFs and CSV
exports call these helpers instead of concatenating strings.

Output is Babel's, unchanged. Note the CLDR spacing characters: French uses a
NO-BREAK SPACE (U+00A0) before the currency sign, the percent sign and compact
suffixes ("159,00\u00a0€", "80,61\u00a0%", "22,6\u00a0M") and a NARROW NO-BREAK
SPACE (U+202F) as the grouping separator ("3\u202f000\u202f000"). Keep them:
they stop a browser or a PDF from breaking a line inside an amount.

Locales may be given Django-style ("fr", "en", "en-us") or POSIX-style ("en_US").

Whenever Babel has to round (compact numbers), it does so half away from zero,
the project's rounding rule (see :mod:`domain.money`), instead of
Python's default banker's rounding. Percentages are rounded by
:func:`domain.money.round_half_up` before Babel sees them.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from contextlib import contextmanager
from copy import copy
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Literal

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton
from babel.dates import format_time as babel_format_time
from babel.numbers import (
    format_compact_decimal,
    format_currency,
    format_decimal,
    get_currency_precision,
)

from domain.money import round_half_up

DateFormat = Literal["short", "medium", "long", "full"]

# Ratios are rounded to 1/10 000, i.e. a percentage with two decimals.
_RATIO_DIGITS = 4
_PERCENT_DECIMALS = _RATIO_DIGITS - 2


def _locale(locale: str) -> Locale:
    return Locale.parse(locale.replace("-", "_"))


@contextmanager
def _half_up() -> Iterator[None]:
    with decimal.localcontext() as context:
        context.rounding = decimal.ROUND_HALF_UP
        yield


def format_money(amount_cents: int, currency: str, locale: str) -> str:
    """``15900, "EUR"`` -> fr "159,00\u00a0€", en "€159.00"."""
    digits = get_currency_precision(currency)
    amount = Decimal(amount_cents).scaleb(-digits)
    with _half_up():
        return format_currency(amount, currency, locale=_locale(locale))


def format_number(value: int, locale: str) -> str:
    """``3_000_000`` -> fr "3\u202f000\u202f000", en "3,000,000"."""
    with _half_up():
        return format_decimal(value, locale=_locale(locale))


def format_compact(value: int, locale: str) -> str:
    """``22_600_000`` -> fr "22,6\u00a0M", en "22.6M"; ``28_000_000`` -> "28 M"."""
    with _half_up():
        return format_compact_decimal(value, format_type="short", locale=_locale(locale), fraction_digits=1)


def format_percent(numerator: int, denominator: int, locale: str) -> str:
    """``numerator / denominator`` as a percentage with two decimals.

    ``(2_257, 2_800)`` -> fr "80,61\u00a0%", en "80.61%". A zero denominator
    (nothing allotted) shows 0 %.
    """
    parsed = _locale(locale)
    if denominator == 0:
        ratio = Decimal(0)
    else:
        scaled = round_half_up(numerator * 10**_RATIO_DIGITS, denominator)
        ratio = Decimal(scaled).scaleb(-_RATIO_DIGITS)
    pattern = copy(parsed.percent_formats[None])
    pattern.frac_prec = (_PERCENT_DECIMALS, _PERCENT_DECIMALS)
    with _half_up():
        formatted: str = pattern.apply(ratio, parsed)
        return formatted


def format_date(d: date, locale: str, format: DateFormat = "medium") -> str:
    """``date(2025, 10, 2)`` -> fr "2 oct. 2025", en "Oct 2, 2025" (medium)."""
    return babel_format_date(d, format=format, locale=_locale(locale))


#: The word between a date and its time ("2 avril 2026 à 10:00").
_AT = {"fr": "à", "en": "at"}


def format_moment(moment: datetime, zone: tzinfo, locale: str) -> str:
    """An instant as a long date and a short time in ``zone``: fr "2 avril 2026 à 10:00",
    en "April 2, 2026 at 10:00 AM"."""
    local = moment.astimezone(zone)
    language = _locale(locale)
    day = babel_format_date(local.date(), format="long", locale=language)
    time = babel_format_time(local.time(), format="short", locale=language)
    return f"{day} {_AT.get(language.language, '')} {time}".replace("  ", " ")


def format_day_month(d: date, locale: str) -> str:
    """Day and abbreviated month without the year: fr "2 oct.", en "Oct 2" (chart axes)."""
    return str(format_skeleton("MMMd", d, locale=_locale(locale)))
