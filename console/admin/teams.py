"""Operator views of seats and seat charges: read-only; changes go through the members
page and the services, which keep the seat rules and the money consistent."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from console.admin.base import ReadOnlyAdmin, money_column
from teams.models import Seat, SeatCharge


@admin.register(Seat)
class SeatAdmin(ReadOnlyAdmin):
    list_display = ("user_email", "workspace", "interval", "coterm", "price", "status", "period_end")
    price = money_column("price_cents", _("Price"))
    list_filter = ("status", "interval", "coterm")
    search_fields = ("user_email", "workspace__name")
    list_select_related = ("workspace",)


@admin.register(SeatCharge)
class SeatChargeAdmin(ReadOnlyAdmin):
    list_display = ("description", "workspace", "kind", "day", "amount", "status", "invoice")
    amount = money_column("amount_cents", _("Amount"))
    list_filter = ("status", "kind")
    search_fields = ("description", "workspace__name")
    list_select_related = ("workspace", "invoice")
