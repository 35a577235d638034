"""Collecting an invoice: charge it, and carry a failed last retry to its consequence
(docs/rules/dunning.md). Every charge outside a customer's own confirmation goes
through :func:`collect`: the charge task, the dunning retries, the seat invoices, a new
card's retries and "Payer maintenant".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from billing.services.core import PaymentOutcome, check_manager
from billing.services.dunning import claim_attempt, refresh_past_due
from billing.services.lifecycle import expire_after_dunning
from billing.services.payments import CHARGE_TASK, charge_answered, charge_invoice, payment_method_save
from billing.services.pending import lapse_message, lapsed_changes, pending_drop
from gateways.base import CardInfo, PaymentError, get_gateway
from invoices.models import PAYABLE_STATUSES, Charge, Invoice, InvoiceStatus
from invoices.selectors import unpaid_invoice_ids
from invoices.services import invoice_void
from subscriptions import errors
from subscriptions.models import PaymentMethod
from teams.models import SeatCharge
from teams.services import seats_release_unpaid
from workspaces.models import Membership, Workspace

__all__ = [
    "CHARGE_TASK",
    "CardSaved",
    "card_save",
    "collect",
    "end_spent_dunning",
    "lapse_waiting_changes",
    "pay_now",
    "retry_unpaid_invoices",
]


def collect(*, invoice_id: int, attempt: int, now: datetime) -> PaymentOutcome:
    """Charge attempt ``attempt`` of the invoice; when it was its last retry and it
    failed, what the invoice was for decides the consequence (:func:`_dunning_over`). A
    gateway error (outcome unknown) propagates, for a retry with the same attempt
    number, hence the same key."""
    outcome = charge_invoice(invoice_id=invoice_id, attempt=attempt, now=now)
    if outcome.dunning_exhausted or invoice_ids_out_of_retries(invoice_id=invoice_id):
        _dunning_over(invoice_id=invoice_id, now=now)
    return outcome


def invoice_ids_out_of_retries(*, invoice_id: int | None = None) -> list[int]:
    """Failed invoices with no retry left whose consequence is still to be carried out
    (the last attempt's answer came by webhook first, or a worker stopped in between)."""
    invoices = Invoice.objects.filter(status=InvoiceStatus.FAILED, next_payment_attempt_at__isnull=True)
    if invoice_id is not None:
        invoices = invoices.filter(pk=invoice_id)
    return list(invoices.order_by("past_due_since", "id").values_list("pk", flat=True))


def end_spent_dunning(*, now: datetime) -> int:
    """Carry out the last failure of every invoice out of retries (a safety net for
    :func:`collect`). Call it outside any transaction. Returns how many were settled."""
    ended = 0
    for invoice_id in invoice_ids_out_of_retries():
        try:
            ended += int(_dunning_over(invoice_id=invoice_id, now=now))
        except PaymentError:
            continue  # Stripe cannot tell yet: the next sweep asks again
    return ended


def _dunning_over(*, invoice_id: int, now: datetime) -> bool:
    """docs/rules/dunning.md#last-failure: a seat charge releases the seats it billed and is
    cancelled by a credit note, the prepaid plan going on; any other invoice (a renewal,
    a trial's end) expires the subscription to Free, which cancels every unpaid invoice.

    A charge of the invoice still waiting for its payer is cancelled first: one paid at
    the last moment ends dunning as paid instead. Returns whether the consequence ran."""
    if _settle_open_charges(invoice_id, now):
        return False
    invoice = Invoice.objects.select_related("workspace").get(pk=invoice_id)
    if invoice.status != InvoiceStatus.FAILED:
        return False
    seat_ids = list(SeatCharge.objects.filter(invoice=invoice).values_list("seat_id", flat=True))
    if not seat_ids:
        expire_after_dunning(workspace=invoice.workspace, now=now)
        return True
    with transaction.atomic():
        seats_release_unpaid(workspace=invoice.workspace, seat_ids=seat_ids, now=now)
        if Invoice.objects.filter(pk=invoice.pk, status__in=PAYABLE_STATUSES).exists():
            invoice_void(invoice=invoice, now=now)
        refresh_past_due(workspace_id=invoice.workspace_id, now=now)
    return True


def _settle_open_charges(invoice_id: int, now: datetime) -> bool:
    """Cancel the invoice's charges still open with the gateway (waiting for their payer's
    authentication, or never answered), each recorded once; returns whether the invoice
    turned out paid. A :class:`~gateways.base.PaymentError` (Stripe cannot tell)
    propagates."""
    for charge in Charge.objects.filter(invoice_id=invoice_id).order_by("attempt"):
        if not charge.reference and not charge.is_final:
            # Never answered (Stripe unreachable): ask again under the same key, which
            # tells whether that first request went through.
            charge_invoice(invoice_id=invoice_id, attempt=charge.attempt, now=now)
            charge.refresh_from_db()
        if charge.reference and not charge.is_final:
            result = get_gateway().cancel_charge(charge.reference)
            charge_answered(charge_id=charge.pk, result=result, now=now, settle_failure=False)
    return Invoice.objects.filter(pk=invoice_id, status=InvoiceStatus.PAID).exists()


def retry_unpaid_invoices(*, workspace: Workspace, now: datetime) -> list[PaymentOutcome]:
    """A new card was saved: every unpaid invoice is charged at once, each as its next
    attempt (docs/rules/dunning.md#new-card). Call it outside any transaction."""
    outcomes = []
    for invoice_id in unpaid_invoice_ids(workspace):
        attempt = claim_attempt(invoice_id=invoice_id, now=now, due_only=False)
        if attempt is not None:
            outcomes.append(collect(invoice_id=invoice_id, attempt=attempt, now=now))
    return outcomes


@dataclass(frozen=True)
class CardSaved:
    method: PaymentMethod
    #: The unpaid invoices charged with the new card, one outcome each.
    retries: list[PaymentOutcome]

    @property
    def paid(self) -> int:
        return sum(1 for outcome in self.retries if outcome.succeeded)


def card_save(
    *, workspace: Workspace, actor: Membership, card: CardInfo, token: str, now: datetime
) -> CardSaved:
    """Save the card a gateway accepted as the default payment method, then charge every
    unpaid invoice with it (docs/rules/dunning.md#new-card). Call it outside any
    transaction: the charges must not hold the card's row locks."""
    method = payment_method_save(workspace=workspace, actor=actor, card=card, token=token, now=now)
    return CardSaved(method=method, retries=retry_unpaid_invoices(workspace=workspace, now=now))


def pay_now(*, workspace: Workspace, actor: Membership, invoice_id: int, now: datetime) -> PaymentOutcome:
    """ "Payer maintenant": charge one unpaid invoice of the workspace at once with the card
    on file, as its next attempt (docs/rules/dunning.md#payer-maintenant). Owners and
    admins only; an invoice of another workspace is not found."""
    check_manager(actor, workspace)
    invoice = Invoice.objects.filter(workspace=workspace, pk=invoice_id).first()
    if invoice is None:
        raise errors.InvoiceNotFound()
    if invoice.status == InvoiceStatus.PAID:
        raise errors.InvoiceAlreadySettled()
    if invoice.status not in PAYABLE_STATUSES:
        raise errors.InvoiceNotPayableNow()
    attempt = claim_attempt(invoice_id=invoice.pk, now=now, due_only=False)
    if attempt is None:
        raise errors.PaymentInProgress()
    return collect(invoice_id=invoice.pk, attempt=attempt, now=now)


def lapse_waiting_changes(*, now: datetime) -> int:
    """The changes whose payment was not authenticated within their window lapse: the
    charge is cancelled with the gateway (one paid at the last moment is applied
    instead), then the invoice voided (docs/rules/lifecycle.md#pay-then-apply). Returns
    how many lapsed. Call it outside any transaction."""
    lapsed = 0
    for invoice_id in lapsed_changes(now):
        try:
            # Cancelled for lapsing: recorded, the change dropped below with the lapse as
            # its reason (one paid meanwhile is applied instead).
            paid = _settle_open_charges(invoice_id, now)
        except PaymentError:
            continue  # Stripe cannot tell yet: the next sweep asks again
        if not paid:
            lapsed += int(pending_drop(invoice_id=invoice_id, now=now, reason=lapse_message()))
    return lapsed
