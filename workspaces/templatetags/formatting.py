"""Template filters over :mod:`workspaces.formatting`, in the active language.

``{% load formatting %}`` then ``{{ cents|money:currency }}`` → fr "159,00 €", en "€159.00";
``{{ n|number }}``, ``{{ n|compact }}`` ("22,6 M"), ``{{ part|percent:whole }}`` ("80,61 %"),
``{{ day|locale_date }}`` ("2 oct. 2025"), ``{{ day|day_month }}`` ("2 oct.").
"""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language

from workspaces import formatting

register = template.Library()


def active_locale() -> str:
    return get_language() or settings.LANGUAGE_CODE


def _as_date(value: date | datetime) -> date:
    # Aware datetimes are shown in the user's zone (UserTimezoneMiddleware activates it).
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


@register.filter
def money(amount_cents: int | str | None, currency: str = "EUR") -> str:
    if amount_cents is None or amount_cents == "":
        return ""
    return formatting.format_money(int(amount_cents), currency or "EUR", active_locale())


@register.filter
def number(value: int | str | None) -> str:
    if value is None or value == "":
        return ""
    return formatting.format_number(int(value), active_locale())


@register.filter
def compact(value: int | str | None) -> str:
    if value is None or value == "":
        return ""
    return formatting.format_compact(int(value), active_locale())


@register.filter
def percent(numerator: int | str | None, denominator: int | str | None) -> str:
    return formatting.format_percent(int(numerator or 0), int(denominator or 0), active_locale())


@register.filter
def locale_date(value: date | datetime | str | None, format: str = "medium") -> str:
    # A missing template variable arrives as "": show nothing.
    if not isinstance(value, date):
        return ""
    return formatting.format_date(_as_date(value), active_locale(), format)  # type: ignore[arg-type]


@register.filter
def day_month(value: date | datetime | str | None) -> str:
    if not isinstance(value, date):
        return ""
    return formatting.format_day_month(_as_date(value), active_locale())
