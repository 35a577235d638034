"""How the subscription pages word their values: money, numbers, dates, percentages,
per-interval labels and the words of preview lines, in the active language.

The one module of these pages that turns values into display strings. Views, selectors
and cards call it; templates use the ``formatting`` filters, which share
:mod:`workspaces.formatting` (Babel / CLDR) with it, so an amount reads the same in a
flash message, a card and a table (docs/rules/README.md#conventions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel.numbers import format_percent, get_currency_precision, get_currency_symbol
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.services.core import Preview
from domain.periods import Interval
from invoices.line_words import line_words
from workspaces.formatting import (
    DateFormat,
    format_compact,
    format_date,
    format_day_month,
    format_money,
    format_number,
)
from workspaces.templatetags.formatting import active_locale

PER_INTERVAL: dict[str, Promise] = {
    Interval.WEEK.value: gettext_lazy("/week"),
    Interval.MONTH.value: gettext_lazy("/month"),
    Interval.YEAR.value: gettext_lazy("/year"),
}
#: Packs of a million credits are counted "in millions" on the form (docs/rules/plans.md#extra-credits).
MILLION = 1_000_000


def locale() -> str:
    """The active language, as the formatting helpers take it ("fr", "en")."""
    return active_locale()


def _babel_locale() -> str:
    return locale().replace("-", "_")


# --- values ---------------------------------------------------------------------------------


def money(amount_cents: int, currency: str) -> str:
    """fr "159,00 €", en "€159.00"."""
    return format_money(amount_cents, currency, locale())


def number(value: int) -> str:
    """fr "3 000 000", en "3,000,000"."""
    return format_number(value, locale())


def day(value: date, format: DateFormat = "medium") -> str:
    """fr "2 oct. 2025" (medium), "2 octobre 2025" (long)."""
    return format_date(value, locale(), format)


def whole_percent(percent: int) -> str:
    """A whole percentage: fr "17 %", en "17%"."""
    return str(format_percent(Decimal(percent) / 100, locale=_babel_locale()))


def currency_symbol(currency: str) -> str:
    """fr "€" for EUR (the amount columns' header)."""
    return str(get_currency_symbol(currency, locale=_babel_locale()))


def per_interval(interval: str) -> Promise:
    """ "/month", "/year", "/week" after a price."""
    return PER_INTERVAL[interval]


def card_month(month: int) -> str:
    """A card's expiry month on two digits ("04/2027")."""
    return f"{month:02d}"


def credit_packs_label(pack_size: int) -> str:
    """The label of the credit packs field of the customization form."""
    if pack_size == MILLION:
        return _("Extra credits (in millions)")
    return _("Extra credits (packs of %(size)s credits)") % {"size": number(pack_size)}


def csv_date(moment: datetime) -> str:
    """A date for a CSV cell: ISO 8601, never localized ("2025-10-02")."""
    return moment.date().isoformat()


def csv_amount(amount_cents: int, currency: str) -> str:
    """An amount for a CSV cell: plain decimal in major units, never localized ("15.00")."""
    return str(Decimal(amount_cents).scaleb(-get_currency_precision(currency)))


def meter_width(part: int, whole: int) -> str:
    """A meter's filled share in percent for CSS, clamped to 0–100 (never localized)."""
    if whole <= 0:
        return "0"
    return f"{min(100, max(0, part * 100 / whole)):.1f}"


# --- the usage chart --------------------------------------------------------------------------


def svg_number(value: float) -> str:
    """An SVG coordinate (never localized)."""
    return f"{value:.1f}"


def chart_point_title(value_day: date, credits: int, *, locale: str, credits_label: str) -> str:
    """A point's hover title: fr "11 oct. 2026 : 3 000 000 crédits", en "Oct 11, 2026: 5 credits"."""
    separator = " : " if locale.lower().startswith("fr") else ": "  # French puts a space before ":"
    return f"{format_date(value_day, locale)}{separator}{format_number(credits, locale)} {credits_label}"


def chart_axis_value(value: int, locale: str) -> str:
    """A y-axis label: fr "3 M", en "3M"."""
    return format_compact(value, locale)


def chart_axis_day(value_day: date, locale: str) -> str:
    """An x-axis label: fr "2 oct.", en "Oct 2"."""
    return format_day_month(value_day, locale)


# --- previews ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewLine:
    """A line of a cost summary in the active language: its words, its formula
    (quantity × unit price × fraction = amount, docs/rules/invoices.md#line-words) and its amount."""

    description: str
    formula: str
    amount_cents: int


def preview_lines(preview: Preview) -> list[PreviewLine]:
    lines = []
    for line in preview.lines:
        words = line_words(line, currency=preview.currency, language=locale())
        lines.append(
            PreviewLine(description=words.description, formula=words.formula, amount_cents=line.amount_cents)
        )
    return lines
