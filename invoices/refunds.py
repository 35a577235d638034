"""The credit note that records money given back to the card (docs/rules/invoices.md#credit-notes).

A full refund is the invoice's every line reversed; a partial one is a single credit line
whose amount, VAT added, is the amount refunded (the nearest to it when no base gives it
exactly at that rate). Either way the money went back to the card: nothing is put on the
account balance.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import pgettext

from domain.vat import vat_cents
from invoices.issuing import Buyer, InvoiceDraft, cancellation_draft
from invoices.models import Invoice, InvoiceStatus, LineKind
from invoices.totals import DraftLine


def base_for_total(total_cents: int, *, vat_rate_bp: int, reverse_charge: bool) -> int:
    """The amount before VAT whose total with VAT is ``total_cents`` (or the nearest below)."""
    estimate = total_cents * 10_000 // (10_000 + (0 if reverse_charge else vat_rate_bp))
    candidates = [base for base in (estimate + 1, estimate, estimate - 1) if base >= 0]
    fitting = [
        base
        for base in candidates
        if base + vat_cents(base, vat_rate_bp=vat_rate_bp, reverse_charge=reverse_charge) <= total_cents
    ]
    return max(fitting) if fitting else 0


def refund_draft(invoice: Invoice, *, amount_cents: int, full: bool, source: str) -> InvoiceDraft:
    if full:
        draft = cancellation_draft(invoice)
        return InvoiceDraft(
            buyer=draft.buyer,
            billing_reason=draft.billing_reason,
            source=source,
            lines=draft.lines,
            corrects_id=invoice.pk,
            cancels=True,
            vat_rate_bp=draft.vat_rate_bp,
            credit_status=InvoiceStatus.REFUNDED,
        )
    base = base_for_total(
        amount_cents, vat_rate_bp=invoice.vat_rate_bp, reverse_charge=invoice.reverse_charge
    )
    with translation.override(invoice.language):
        words = pgettext("invoice line", "Partial refund of invoice %(number)s") % {"number": invoice.number}
    line = DraftLine(
        kind=LineKind.CREDIT,
        amount_cents=-base,
        quantity=-1,
        unit_amount_cents=base,
        subject=None,
        description=words,
        metadata={"refund": True},
    )
    return InvoiceDraft(
        buyer=Buyer.as_invoiced(invoice),
        billing_reason=invoice.billing_reason,
        source=source,
        lines=[line],
        corrects_id=invoice.pk,
        cancels=True,
        vat_rate_bp=int(invoice.vat_rate_bp),
        credit_status=InvoiceStatus.REFUNDED,
    )
