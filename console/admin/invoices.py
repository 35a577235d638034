"""Operator views: invoices and the account balance are read-only here.

Changes go through the services (the admin actions below call them), never through
edit forms: a finalized invoice is immutable and the account balance is append-only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language

from billing.services import settlement
from console.admin.base import ReadOnlyAdmin
from invoices import services
from invoices.errors import InvoiceError
from invoices.line_words import line_words
from invoices.models import AccountBalanceEntry, Invoice, InvoiceLine


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = ("position", "kind", "words", "quantity", "unit_amount_cents", "fraction_numerator",
              "fraction_denominator", "fraction_unit", "amount_cents", "period_start", "period_end")  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Words")
    def words(self, line: InvoiceLine) -> str:
        """The line's words in the operator's language (docs/rules/invoices.md#line-words)."""
        words = line_words(
            line, currency=line.invoice.currency, language=get_language() or settings.LANGUAGE_CODE
        )
        return f"{words.description} — {words.formula}"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("number", "workspace", "status", "billing_reason", "total_cents", "amount_due_cents",
                    "currency", "issued_at", "paid_at")  # fmt: skip
    list_filter = ("status", "billing_reason", "reverse_charge")
    search_fields = ("number", "workspace__name", "source", "payment_reference")
    list_select_related = ("workspace",)
    date_hierarchy = "issued_at"
    inlines = (InvoiceLineInline,)
    actions = ("mark_paid", "void")

    @admin.action(description="Mark as paid (payment received outside the gateway)")
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        self._apply(request, queryset, lambda invoice: settlement.invoice_pay(
            invoice=invoice, now=timezone.now(), payment_reference="admin"))  # fmt: skip

    @admin.action(description="Void (unpaid invoices only)")
    def void(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        self._apply(
            request, queryset, lambda invoice: services.invoice_void(invoice=invoice, now=timezone.now())
        )

    def _apply(self, request: HttpRequest, queryset: QuerySet[Invoice], action: Any) -> None:
        done = 0
        for invoice in queryset:
            try:
                action(invoice)
            except InvoiceError as exc:
                self.message_user(request, f"{invoice}: {exc.message}", level=messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} invoice(s) updated.", level=messages.SUCCESS)


@admin.register(AccountBalanceEntry)
class AccountBalanceEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "workspace", "amount_cents", "currency", "balance_after_cents", "reason",
                    "invoice")  # fmt: skip
    list_filter = ("reason",)
    search_fields = ("workspace__name", "source", "invoice__number")
    list_select_related = ("workspace", "invoice")
