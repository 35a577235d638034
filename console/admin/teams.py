"""Operator views of seats and seat charges: read-only; changes go through the members
page and the services, which keep the seat rules and the money consistent."""

from __future__ import annotations

from django.contrib import admin

from console.admin.base import ReadOnlyAdmin
from teams.models import Seat, SeatCharge


@admin.register(Seat)
class SeatAdmin(ReadOnlyAdmin):
    list_display = ("user_email", "workspace", "interval", "coterm", "price_cents", "status", "period_end")
    list_filter = ("status", "interval", "coterm")
    search_fields = ("user_email", "workspace__name")
    list_select_related = ("workspace",)


@admin.register(SeatCharge)
class SeatChargeAdmin(ReadOnlyAdmin):
    list_display = ("description", "workspace", "kind", "day", "amount_cents", "status", "invoice")
    list_filter = ("status", "kind")
    search_fields = ("description", "workspace__name")
    list_select_related = ("workspace", "invoice")
