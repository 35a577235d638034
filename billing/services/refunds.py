"""Money given back to the card, however it was refunded (by an operator through the
gateway, or in Stripe's dashboard): each refund is recorded once by a credit note, and a
full refund takes back what the invoice granted (docs/rules/payments.md#refunds)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from billing.services.settlement import settle_refunded
from gateways.base import get_gateway
from invoices import services as invoice_services
from invoices.errors import InvoiceNotRefundable
from invoices.issuing import issue_invoices
from invoices.models import Charge, ChargeStatus, Invoice, InvoiceStatus
from invoices.refunds import refund_draft


def refund_recorded(*, charge_id: int, refunded_total_cents: int, now: datetime) -> Invoice | None:
    """The gateway says ``refunded_total_cents`` of this charge went back to the card:
    the part not recorded yet gets its credit note. Returns it, or ``None`` when nothing
    was new (a webhook delivered twice, or after the refund's own answer)."""
    with transaction.atomic():
        charge = Charge.objects.select_for_update().select_related("invoice").get(pk=charge_id)
        if charge.status != ChargeStatus.SUCCEEDED:
            return None
        refunded_total_cents = min(refunded_total_cents, charge.amount_cents)
        new_cents = refunded_total_cents - charge.refunded_cents
        if new_cents <= 0:
            return None
        whole = charge.refunded_cents == 0 and refunded_total_cents == charge.amount_cents
        charge.refunded_cents = refunded_total_cents
        charge.updated_at = now
        charge.save(update_fields=["refunded_cents", "updated_at"])
        invoice = charge.invoice
        draft = refund_draft(
            invoice, amount_cents=new_cents, full=whole, source=f"refund:{charge.pk}:{refunded_total_cents}"
        )
        issued = issue_invoices([draft], now=now)[0]
        if refunded_total_cents == charge.amount_cents and invoice.status == InvoiceStatus.PAID:
            refunded = invoice_services.invoice_refund(invoice=invoice, now=now)
            settle_refunded(invoice=refunded, now=now)
        return Invoice.objects.get(pk=issued.invoice_id)


def refund_payment(*, invoice_id: int, amount_cents: int, now: datetime) -> Invoice:
    """Give ``amount_cents`` of an invoice's payment back to the card through the gateway,
    then record it (:func:`refund_recorded`). Call it outside any transaction. Refused
    (:class:`~invoices.errors.InvoiceNotRefundable`) when the invoice has no payment left
    to refund for that amount."""
    charge = (
        Charge.objects.filter(invoice_id=invoice_id, status=ChargeStatus.SUCCEEDED)
        .exclude(reference="")
        .first()
    )
    if charge is None or not 0 < amount_cents <= charge.amount_cents - charge.refunded_cents:
        raise InvoiceNotRefundable()
    refunded_total = charge.refunded_cents + amount_cents
    result = get_gateway().refund(charge.reference, amount_cents, f"refund:{charge.pk}:{refunded_total}")
    if not result.succeeded:
        raise InvoiceNotRefundable()
    refund_recorded(charge_id=charge.pk, refunded_total_cents=refunded_total, now=now)
    return Invoice.objects.get(source=f"refund:{charge.pk}:{refunded_total}")
