"""What every read-only admin page shares."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import get_language

from workspaces.formatting import format_money


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A list and detail an operator reads; changes go through the services' actions."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def money_in_locale(amount_cents: int | None, currency: str) -> str:
    """An amount in cents as money in the operator's language (fr "24,00 €")."""
    if amount_cents is None:
        return "—"
    return format_money(amount_cents, currency, get_language() or settings.LANGUAGE_CODE)


def money_column(field: str, description: Any, currency_field: str = "currency") -> Any:
    """A list column showing ``field`` (cents) as money, ordered by the field (assign it
    to a ModelAdmin attribute: it is called as a method)."""

    @admin.display(description=description, ordering=field)
    def column(admin_: Any, obj: Any) -> str:
        return money_in_locale(getattr(obj, field), getattr(obj, currency_field, "EUR") or "EUR")

    column.__name__ = f"{field}_money"
    return column
