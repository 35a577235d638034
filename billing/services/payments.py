"""Charging invoices, dunning, and saving the card a gateway accepted.

Charges run outside database transactions (a gateway call must never hold row locks
nor be rolled back after the money moved); each is keyed ``invoice:<id>:attempt:<n>``
so a replay returns the first result. A failed charge puts the invoice in dunning
(docs/rules/dunning.md#retry-schedule): retries on days 1, 3, 5 and 7 after its own first
failure, the subscription ``past_due`` meanwhile, the billing contacts emailed each time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.db import transaction
from django.utils.translation import gettext as _

from billing.services.core import PaymentOutcome, check_manager, record_event
from billing.services.dunning import record_payment_failure
from billing.services.settlement import invoice_pay
from gateways.base import CardDeclined, CardInfo, ChargeResult, get_gateway
from invoices.models import PAYABLE_STATUSES, Invoice, InvoiceStatus
from invoices.services import invoice_mark_payment_failed, invoice_void
from subscriptions.models import EventKind, PaymentMethod, Subscription
from workspaces.models import Membership, Workspace

#: The Celery task that charges one invoice, by its name (tasks import services, never
#: the reverse): it runs :func:`billing.services.collection.collect`.
CHARGE_TASK = "billing.tasks.charge_invoice_task"


def charge_key(invoice_id: int, attempt: int) -> str:
    return f"invoice:{invoice_id}:attempt:{attempt}"


def charge_invoice(
    *, invoice_id: int, attempt: int, now: datetime, on_decline: Literal["dunning", "void"] = "dunning"
) -> PaymentOutcome:
    """Charge what an open or failed invoice still asks for, then record the outcome.

    Call it outside any transaction. A paid invoice is not charged again. A decline puts
    the invoice in dunning, or with ``on_decline="void"`` (a change that waits for its
    payment, docs/rules/lifecycle.md#pay-then-apply) voids it. A gateway
    :class:`~gateways.base.PaymentError` (outcome unknown) propagates, so the
    task can retry with the same attempt number, hence the same idempotency key.
    """
    invoice = Invoice.objects.select_related("workspace").get(pk=invoice_id)
    if invoice.status == InvoiceStatus.PAID:
        return PaymentOutcome(
            succeeded=True, message=_("The invoice is paid."), reference=invoice.payment_reference
        )
    if invoice.status not in PAYABLE_STATUSES:
        return PaymentOutcome(succeeded=False, message=_("This invoice cannot be paid any more."))
    if invoice.amount_due_cents == 0:
        invoice_pay(invoice=invoice, now=now)
        return PaymentOutcome(succeeded=True, message=_("The invoice is paid."))
    try:
        result = get_gateway().charge(
            invoice.workspace,
            invoice.amount_due_cents,
            invoice.currency,
            charge_key(invoice.pk, attempt),
            f"{invoice.number} ({invoice.workspace.name})",
        )
    except CardDeclined as exc:
        result = ChargeResult(succeeded=False, reference="", failure_message=str(exc.message))
    if not result.succeeded and on_decline == "void":
        with transaction.atomic():
            failed = invoice_mark_payment_failed(
                invoice=invoice, now=now, next_attempt_at=None, reason=result.failure_message
            )
            invoice_void(invoice=failed, now=now)
        return PaymentOutcome(succeeded=False, message=result.failure_message)
    if not result.succeeded:
        return record_payment_failure(
            invoice=invoice, attempt=attempt, now=now, reason=result.failure_message
        )
    with transaction.atomic():
        invoice_pay(invoice=invoice, now=now, payment_reference=result.reference)
        subscription = Subscription.objects.filter(workspace_id=invoice.workspace_id).first()
        if subscription is not None:
            record_event(
                subscription,
                EventKind.PAYMENT_SUCCEEDED,
                now=now,
                data={"invoice": invoice.pk, "attempt": attempt, "amount_cents": invoice.amount_due_cents},
            )
    return PaymentOutcome(succeeded=True, message=_("Payment accepted."), reference=result.reference)


# --- Saving a card -------------------------------------------------------------------------


@transaction.atomic
def payment_method_save(
    *, workspace: Workspace, actor: Membership, card: CardInfo, token: str, now: datetime
) -> PaymentMethod:
    """Save a card the gateway has accepted as the workspace's default payment method.

    Only what the gateway reports is stored: brand, last 4 digits, expiry and the
    gateway's reference for the card (``token``), never a card number.
    """
    check_manager(actor, workspace)
    PaymentMethod.objects.select_for_update().filter(workspace=workspace, is_default=True).update(
        is_default=False
    )
    method = PaymentMethod(
        workspace=workspace,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        is_default=True,
        card_token=token,
        created_at=now,
    )
    method.full_clean()
    method.save()
    subscription = Subscription.objects.filter(workspace=workspace).first()
    if subscription is not None:
        record_event(
            subscription,
            EventKind.PAYMENT_METHOD_UPDATED,
            now=now,
            actor=actor,
            data={"brand": method.brand, "last4": method.last4},
        )
    return method
