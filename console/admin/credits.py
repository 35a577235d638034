"""Operator views of the ledger: read-only, since every change goes through a service."""

from __future__ import annotations

from django.contrib import admin

from console.admin.base import ReadOnlyAdmin
from credits.models import ActionType, ApiKey, CreditBalance, CreditGrant, LedgerEntry, Reservation


@admin.register(ActionType)
class ActionTypeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "label_fr", "label_en", "cost", "is_active")
    list_editable = ("cost", "is_active")


@admin.register(CreditBalance)
class CreditBalanceAdmin(ReadOnlyAdmin):
    list_display = ("workspace", "balance", "allowance_total", "allowance_used", "period_start", "period_end")
    list_select_related = ("workspace",)


@admin.register(CreditGrant)
class CreditGrantAdmin(ReadOnlyAdmin):
    list_display = (
        "workspace",
        "bucket",
        "amount",
        "remaining",
        "expires_at",
        "expired_at",
        "source",
        "created_at",
    )
    list_filter = ("bucket",)
    list_select_related = ("workspace",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "workspace", "kind", "amount", "balance_after", "action", "actor", "note")
    list_filter = ("kind",)
    list_select_related = ("workspace", "action", "actor")


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ("id", "workspace", "action", "amount", "status", "expires_at")
    list_filter = ("status",)
    list_select_related = ("workspace", "action")


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("name", "workspace", "prefix", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("workspace",)
