"""Operator views of seats and seat charges: read-only; changes go through the members
page and the services, which keep the seat rules and the money consistent."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from teams.models import Seat, SeatCharge


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Seat)
class SeatAdmin(_ReadOnly):
    list_display = ("user_email", "workspace", "interval", "coterm", "price_cents", "status", "period_end")
    list_filter = ("status", "interval", "coterm")
    search_fields = ("user_email", "workspace__name")
    list_select_related = ("workspace",)


@admin.register(SeatCharge)
class SeatChargeAdmin(_ReadOnly):
    list_display = ("description", "workspace", "kind", "day", "amount_cents", "status", "invoice")
    list_filter = ("status", "kind")
    search_fields = ("description", "workspace__name")
    list_select_related = ("workspace", "invoice")
