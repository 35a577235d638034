"""Operator views: invoices and the account balance are read-only here.

Changes go through the services (the workspace page's actions call them, each with a
reason and an audit entry), never through edit forms: a finalized invoice is immutable
and the account balance is append-only.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from console.admin.base import ReadOnlyAdmin, ReadOnlyInline, money_column
from invoices import exports
from invoices.line_words import line_words
from invoices.models import AccountBalanceEntry, Invoice, InvoiceLine


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ("position", "kind", "words", "quantity", "unit_amount_cents", "fraction_numerator",
              "fraction_denominator", "fraction_unit", "amount_cents", "period_start", "period_end")  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("Words"))
    def words(self, line: InvoiceLine) -> str:
        """The line's words in the operator's language (docs/rules/invoices.md#line-words)."""
        words = line_words(
            line, currency=line.invoice.currency, language=get_language() or settings.LANGUAGE_CODE
        )
        return f"{words.description} — {words.formula}"


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("number", "workspace", "status", "billing_reason", "total", "amount_due",
                    "issued_at", "paid_at")  # fmt: skip
    list_filter = ("status", "billing_reason", "reverse_charge")
    search_fields = ("number", "workspace__name", "source", "payment_reference")
    list_select_related = ("workspace",)
    date_hierarchy = "issued_at"
    inlines = (InvoiceLineInline,)
    # Paying out of band, voiding, refunding and retrying are the workspace page's actions
    # (console.admin.workspaces), each with a reason, a confirmation and an audit entry.
    readonly_fields = ("workspace_page",)
    # The stored PDF's SHA-256 (pdf_sha256) shows on each document's page.
    actions = ("download_zip",)
    total = money_column("total_cents", _("Total"))
    amount_due = money_column("amount_due_cents", _("Amount due"))

    @admin.action(description=_("Download the PDFs and the accounting export (ZIP)"))
    def download_zip(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> HttpResponse:
        """The selected documents' stored PDFs and their accounting export
        (docs/rules/invoices.md#accounting-export): filter a month with the dates above,
        select all, run this."""
        documents = list(queryset.exclude(status="draft").order_by("issued_at", "id"))
        language = get_language() or settings.LANGUAGE_CODE
        content = exports.documents_zip(documents, csv_name="accounting.csv", language=language)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="invoices.zip"'
        return response

    @admin.display(description=_("Workspace page"))
    def workspace_page(self, invoice: Invoice) -> str:
        url = reverse("admin:workspaces_workspace_change", args=[invoice.workspace_id])
        return format_html('<a href="{}">{}</a>', url, invoice.workspace)


@admin.register(AccountBalanceEntry)
class AccountBalanceEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "workspace", "amount", "balance_after", "reason", "invoice")
    amount = money_column("amount_cents", _("Amount"))
    balance_after = money_column("balance_after_cents", _("Balance after"))
    list_filter = ("reason",)
    search_fields = ("workspace__name", "source", "invoice__number")
    list_select_related = ("workspace", "invoice")
