"""What every read-only admin page shares."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import get_language

from console.forms import ReasonForm
from workspaces.formatting import format_money


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A list and detail an operator reads; changes go through the services' actions."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    """Rows shown on their parent's page, never added, changed or deleted there."""

    extra = 0
    can_delete = False

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


def bulk_reason(
    model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    *,
    title: Any,
    rows: list[tuple[str, str]],
) -> str | TemplateResponse:
    """The confirmation page of a bulk action: what it does to each selected row and a
    required reason. Returns the reason once the operator confirmed, else the page
    (docs/rules/operators.md#same-services)."""
    confirming = request.POST.get("confirm") == "1"
    form = ReasonForm(request.POST if confirming else None)
    if confirming and form.is_valid():
        return str(form.cleaned_data["reason"])
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "rows": rows,
        "form": form,
        "action": request.POST.get("action", ""),
        "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        "checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(
        request, "admin/console/bulk_confirm.html", context, status=400 if confirming else 200
    )
