"""Issuing and settling invoices: the one path every billing write takes
(docs/rules/invoices.md, docs/rules/lifecycle.md#pay-then-apply).

:mod:`invoices.issuing` creates and numbers invoices, :mod:`invoices.services` moves
them through their payment states, and this module adds what billing attaches to them:
an invoice paid (at issue, by a charge, by an operator) grants the purchased credits it
carries and takes its subscription out of dunning; a refund takes back what is unused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from billing.services.core import record_event
from billing.services.dunning import refresh_past_due
from credits.services import credits_grant_purchased, credits_revoke_purchased
from domain.vat import vat_cents
from invoices import services as invoice_services
from invoices.issuing import InvoiceDraft, IssuedInvoice, issue_invoices
from invoices.issuing import invoice_create as _invoice_create
from invoices.models import Invoice, InvoiceStatus, LineKind
from invoices.selectors import latest_invoice
from invoices.totals import DraftLine
from subscriptions.models import EventKind, Subscription, SubscriptionEvent
from teams.services import seat_credits_on_payment
from workspaces.formatting import format_number
from workspaces.models import Workspace


@transaction.atomic
def invoices_issue(drafts: Sequence[InvoiceDraft], *, now: datetime) -> list[IssuedInvoice]:
    """Issue invoices in bulk (the sweeps) and settle those paid at issue."""
    issued = issue_invoices(drafts, now=now)
    paid = [i.invoice_id for i in issued if i.paid_at_issue]
    for invoice in Invoice.objects.filter(pk__in=paid).select_related("workspace").order_by("pk"):
        settle_paid(invoice=invoice, now=now)
    return issued


@transaction.atomic
def invoice_issue(
    *,
    workspace: Workspace,
    lines: Sequence[DraftLine],
    billing_reason: str,
    source: str,
    now: datetime,
    corrects_id: int | None = None,
) -> Invoice:
    """Issue one invoice, or a credit note when the lines net below zero (idempotent on its
    source), and settle it if it is paid at issue."""
    invoice = _invoice_create(
        workspace=workspace,
        lines=lines,
        billing_reason=billing_reason,
        source=source,
        now=now,
        corrects_id=corrects_id,
    )
    if invoice.status == InvoiceStatus.PAID and invoice.paid_at == now:
        settle_paid(invoice=invoice, now=now)
    return invoice


def corrected_invoice(workspace: Workspace) -> Invoice | None:
    """The invoice a credit note of the workspace corrects: its latest invoice not voided."""
    return latest_invoice(workspace)


@transaction.atomic
def invoice_pay(*, invoice: Invoice, now: datetime, payment_reference: str = "") -> Invoice:
    """Record an invoice's payment and settle what it grants (a paid one is unchanged)."""
    was_paid = Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.PAID).exists()
    invoice = invoice_services.invoice_mark_paid(
        invoice=invoice, now=now, payment_reference=payment_reference
    )
    if not was_paid:
        settle_paid(invoice=invoice, now=now)
    return invoice


@transaction.atomic
def invoice_refund(*, invoice: Invoice, now: datetime) -> Invoice:
    """Mark a paid invoice refunded and take back what it granted (a refunded one is
    unchanged); :func:`settle_refunded` says how many purchased credits came back."""
    was_refunded = Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.REFUNDED).exists()
    invoice = invoice_services.invoice_refund(invoice=invoice, now=now)
    if not was_refunded:
        settle_refunded(invoice=invoice, now=now)
    return invoice


def _credit_lines(invoice: Invoice) -> tuple[int, int]:
    """Credits bought on the invoice and what they cost, VAT included."""
    lines = list(invoice.lines.filter(kind=LineKind.EXTRA_CREDITS))
    credits = sum(int(line.metadata.get("credits", 0)) for line in lines)
    amount = sum(line.amount_cents for line in lines)
    return credits, amount + vat_cents(
        amount, vat_rate_bp=invoice.vat_rate_bp, reverse_charge=invoice.reverse_charge
    )


def purchase_source(invoice: Invoice) -> str:
    return f"invoice:{invoice.pk}"


def settle_paid(*, invoice: Invoice, now: datetime) -> None:
    """What a paid invoice grants, run once it is paid (idempotent).

    Seats released while it was unpaid get their unused time credited now
    (docs/rules/proration.md#removing-a-seat). Purchased extra credits become a purchased grant only now (docs/rules/plans.md#extra-credits: credits follow
    payment), and a subscription past due only because of this invoice is active again.
    """
    seat_credits_on_payment(invoice_id=invoice.pk, now=now)
    credits, amount = _credit_lines(invoice)
    if credits:
        credits_grant_purchased(
            workspace=invoice.workspace,
            credits=credits,
            amount_paid_cents=amount,
            currency=invoice.currency,
            source=purchase_source(invoice),
            now=now,
        )
    was_past_due = invoice.past_due_since is not None
    subscription = refresh_past_due(workspace_id=invoice.workspace_id, now=now)
    if subscription is not None and was_past_due:
        record_event(
            subscription,
            EventKind.PAYMENT_SUCCEEDED,
            now=now,
            data={"invoice": invoice.pk, "recovered": True},
        )


def settle_refunded(*, invoice: Invoice, now: datetime) -> str:
    """What a refund takes back, run once an invoice is refunded (idempotent): the purchased credits
    it paid for are taken back as far as they are still unused, and the returned message
    says how many."""
    credits, _amount = _credit_lines(invoice)
    if not credits:
        return ""
    earlier = SubscriptionEvent.objects.filter(
        workspace_id=invoice.workspace_id, kind=EventKind.CREDITS_REFUNDED, data__invoice=invoice.pk
    ).first()
    if earlier is not None:
        return refund_message(taken=int(earlier.data["taken_back"]), purchased=credits)
    taken = credits_revoke_purchased(workspace=invoice.workspace, source=purchase_source(invoice), now=now)
    subscription = Subscription.objects.filter(workspace_id=invoice.workspace_id).first()
    if subscription is not None:
        record_event(
            subscription,
            EventKind.CREDITS_REFUNDED,
            now=now,
            data={"invoice": invoice.pk, "credits": credits, "taken_back": taken},
        )
    return refund_message(taken=taken, purchased=credits)


def refund_message(*, taken: int, purchased: int) -> str:
    locale = get_language() or "fr"
    if taken >= purchased:
        return ngettext(
            "The %(count)s purchased credit was unused and has been taken back.",
            "The %(count)s purchased credits were unused and have been taken back.",
            purchased,
        ) % {"count": format_number(purchased, locale)}
    if taken == 0:
        return _("The %(count)s purchased credits have all been used: none were taken back.") % {
            "count": format_number(purchased, locale)
        }
    return _(
        "%(taken)s of the %(count)s purchased credits were still unused and have been taken back; "
        "the others had been used."
    ) % {"taken": format_number(taken, locale), "count": format_number(purchased, locale)}
