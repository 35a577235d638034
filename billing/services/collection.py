"""Collecting an invoice: charge it, and follow a failed last retry to its consequence
(docs/rules/dunning.md). Every charge outside a customer's own confirmation goes
through :func:`collect`: the charge task, the dunning retries, the seat invoices.
"""

from __future__ import annotations

from datetime import datetime

from billing.services.core import PaymentOutcome
from billing.services.lifecycle import expire_after_dunning
from billing.services.payments import CHARGE_TASK, charge_invoice
from invoices.models import Invoice

__all__ = ["CHARGE_TASK", "collect"]


def collect(*, invoice_id: int, attempt: int, now: datetime) -> PaymentOutcome:
    """Charge attempt ``attempt`` of the invoice; when it was the last dunning retry and it
    failed, the subscription expires to Free. A gateway error (outcome unknown)
    propagates, for a retry with the same attempt number, hence the same key."""
    outcome = charge_invoice(invoice_id=invoice_id, attempt=attempt, now=now)
    if outcome.dunning_exhausted:
        invoice = Invoice.objects.select_related("workspace").get(pk=invoice_id)
        expire_after_dunning(workspace=invoice.workspace, now=now)
    return outcome
