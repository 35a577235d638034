"""CSV export of a workspace's invoices (docs/rules/invoices.md)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision
from django.conf import settings
from django.utils.translation import pgettext

from invoices import selectors
from invoices.models import BillingReason, InvoiceStatus
from workspaces.models import Workspace


def _amount(cents: int, currency: str) -> str:
    # Machine-readable ("159.00"): spreadsheets and accounting tools parse it in any locale.
    return str(Decimal(cents).scaleb(-get_currency_precision(currency)))


def invoices_csv(workspace: Workspace) -> str:
    """One row per finalized invoice of ``workspace``, newest first; headers in the active language."""
    zone = ZoneInfo(settings.SELLER_TIME_ZONE)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            pgettext("invoice", "Number"),
            pgettext("invoice", "Issue date"),
            pgettext("invoice", "Due date"),
            pgettext("invoice", "Status"),
            pgettext("invoice", "Reason"),
            pgettext("invoice", "Subtotal excl. VAT"),
            pgettext("invoice", "VAT rate (%)"),
            pgettext("invoice", "VAT"),
            pgettext("invoice", "Total incl. VAT"),
            pgettext("invoice", "Account credit applied"),
            pgettext("invoice", "Amount due"),
            pgettext("invoice", "Currency"),
            pgettext("invoice", "Paid on"),
            pgettext("invoice", "Reverse charge"),
        ]
    )
    for invoice in selectors.invoices_of(workspace).prefetch_related(None):
        currency = invoice.currency
        writer.writerow(
            [
                invoice.number,
                invoice.issued_at.astimezone(zone).date().isoformat() if invoice.issued_at else "",
                invoice.due_at.astimezone(zone).date().isoformat() if invoice.due_at else "",
                InvoiceStatus(invoice.status).label,
                BillingReason(invoice.billing_reason).label,
                _amount(invoice.subtotal_cents, currency),
                str(Decimal(invoice.vat_rate_bp).scaleb(-2)),
                _amount(invoice.vat_cents, currency),
                _amount(invoice.total_cents, currency),
                _amount(invoice.account_credit_applied_cents, currency),
                _amount(invoice.amount_due_cents, currency),
                currency,
                invoice.paid_at.astimezone(zone).date().isoformat() if invoice.paid_at else "",
                "1" if invoice.reverse_charge else "0",
            ]
        )
    return out.getvalue()
