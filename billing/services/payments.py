"""Charging invoices, dunning, and saving the card a gateway accepted.

Charges run outside database transactions (a gateway call must never hold row locks
nor be rolled back after the money moved); each is keyed ``invoice:<id>:attempt:<n>``
so a replay returns the first result. A failed charge puts the invoice in dunning
(docs/rules/dunning.md#retry-schedule): retries on days 1, 3, 5 and 7 after its own first
failure, the subscription ``past_due`` meanwhile, the billing contacts emailed each time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from billing import notifications
from billing.services.core import PaymentOutcome, check_manager, record_event, record_workspace_event
from billing.services.dunning import record_payment_failure
from billing.services.pending import pending_apply, pending_drop
from billing.services.settlement import invoice_pay
from gateways.base import CardDeclined, CardInfo, ChargeResult, get_gateway
from gateways.base import ChargeStatus as GatewayStatus
from invoices.models import PAYABLE_STATUSES, Charge, ChargeStatus, Invoice, InvoiceStatus
from subscriptions.models import EventKind, PaymentMethod, PendingChange, PendingChangeState, Subscription
from workspaces.models import Membership, Workspace

#: The Celery task that charges one invoice, by its name (tasks import services, never
#: the reverse): it runs :func:`billing.services.collection.collect`.
CHARGE_TASK = "billing.tasks.charge_invoice_task"


def charge_key(invoice_id: int, attempt: int) -> str:
    return f"invoice:{invoice_id}:attempt:{attempt}"


def charge_invoice(*, invoice_id: int, attempt: int, now: datetime) -> PaymentOutcome:
    """Charge what an open or failed invoice still asks for, then record the outcome.

    Call it outside any transaction. A paid invoice is not charged again. What the answer
    means is :func:`charge_answered`'s: a decline puts the invoice in dunning, or voids it
    when a change waits for it (docs/rules/lifecycle.md#pay-then-apply). A gateway
    :class:`~gateways.base.PaymentError` (outcome unknown) propagates, so the task can
    retry with the same attempt number, hence the same idempotency key.
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
        pending_apply(invoice_id=invoice.pk, now=now)
        return PaymentOutcome(succeeded=True, message=_("The invoice is paid."))
    earlier = _cancel_waiting_charges(invoice, attempt, now)
    if earlier is not None:
        return earlier
    charge, _created = Charge.objects.get_or_create(
        idempotency_key=charge_key(invoice.pk, attempt),
        defaults={
            "workspace_id": invoice.workspace_id,
            "invoice": invoice,
            "attempt": attempt,
            "amount_cents": invoice.amount_due_cents,
            "currency": invoice.currency,
            "created_at": now,
            "updated_at": now,
        },
    )
    if charge.status != ChargeStatus.PENDING:
        # This attempt was answered already (a task delivered twice, a webhook first).
        return outcome_of(charge)
    try:
        result = get_gateway().charge(
            invoice.workspace,
            charge.amount_cents,
            invoice.currency,
            charge.idempotency_key,
            f"{invoice.number} ({invoice.workspace.name})",
            {
                "invoice_id": str(invoice.pk),
                "invoice_number": str(invoice.number),
                "workspace_id": str(invoice.workspace_id),
                "attempt": str(attempt),
            },
        )
    except CardDeclined as exc:
        result = ChargeResult(status=GatewayStatus.FAILED, reference="", failure_message=str(exc.message))
    return charge_answered(charge_id=charge.pk, result=result, now=now)


def _cancel_waiting_charges(invoice: Invoice, attempt: int, now: datetime) -> PaymentOutcome | None:
    """Before a new attempt, the earlier ones still waiting for the payer's authentication
    are cancelled, so the invoice is never paid twice; one paid meanwhile is the answer."""
    waiting = Charge.objects.filter(
        invoice=invoice,
        attempt__lt=attempt,
        status__in=(ChargeStatus.REQUIRES_ACTION, ChargeStatus.PROCESSING),
    ).exclude(reference="")
    for charge in waiting:
        result = get_gateway().cancel_charge(charge.reference)
        outcome = charge_answered(charge_id=charge.pk, result=result, now=now, settle_failure=False)
        if outcome.succeeded:
            return outcome
    return None


def outcome_of(charge: Charge) -> PaymentOutcome:
    """What a charge's current state means to the person who asked for it."""
    if charge.status == ChargeStatus.SUCCEEDED:
        return PaymentOutcome(
            succeeded=True,
            message=_("Payment accepted."),
            reference=charge.reference,
            invoice_id=charge.invoice_id,
        )
    if charge.status == ChargeStatus.REQUIRES_ACTION:
        return PaymentOutcome(
            succeeded=False,
            message=_("Your bank asks you to confirm this payment."),
            reference=charge.reference,
            requires_action=True,
            invoice_id=charge.invoice_id,
        )
    if charge.status in (ChargeStatus.PROCESSING, ChargeStatus.PENDING):
        return PaymentOutcome(
            succeeded=False, message=_("The payment is being processed."), invoice_id=charge.invoice_id
        )
    return PaymentOutcome(succeeded=False, message=charge.failure_message, invoice_id=charge.invoice_id)


def charge_answered(
    *, charge_id: int, result: ChargeResult, now: datetime, settle_failure: bool = True
) -> PaymentOutcome:
    """Record what the gateway says of one charge, and do what it means, once: the
    synchronous answer, the webhook and the authentication page all come here, in any
    order (docs/rules/payments.md#charging-an-invoice). A final state never moves.

    - paid: the invoice is paid, and the change waiting for it applied;
    - declined, or cancelled: the waiting change lapses and its invoice is voided; any
      other invoice goes to dunning (``settle_failure=False``: only recorded, for an
      earlier attempt replaced by a new one);
    - authentication asked: the payer is emailed the invoice's authentication page; an
      invoice no change waits for is also in dunning meanwhile.
    """
    with transaction.atomic():
        charge = Charge.objects.select_for_update().select_related("invoice").get(pk=charge_id)
        if charge.is_final or charge.status == result.status:
            return outcome_of(charge)
        charge.status = result.status
        charge.reference = result.reference or charge.reference
        charge.failure_message = result.failure_message[:500]
        charge.updated_at = now
        charge.save(update_fields=["status", "reference", "failure_message", "updated_at"])
        invoice = charge.invoice
        waits = PendingChange.objects.filter(invoice=invoice, state=PendingChangeState.WAITING).exists()
        if result.succeeded and invoice.status in PAYABLE_STATUSES:
            _paid(invoice, charge, now)
    outcome = outcome_of(charge)
    if result.succeeded:
        pending_apply(invoice_id=invoice.pk, now=now)
    elif result.status in (GatewayStatus.FAILED, GatewayStatus.CANCELED) and settle_failure:
        if waits:
            pending_drop(invoice_id=invoice.pk, now=now, reason=charge.failure_message)
        else:
            outcome = _with_dunning(
                outcome,
                record_payment_failure(
                    invoice=invoice, attempt=charge.attempt, now=now, reason=charge.failure_message
                ),
            )
    elif result.requires_action:
        if waits:
            _ask_for_authentication(charge, now)
        else:
            # An attempt of an invoice in dunning that asks for authentication counts as a
            # failed attempt for the schedule; on the last retry dunning is over, as after a
            # decline, and nobody is sent to a charge about to be cancelled
            # (docs/rules/dunning.md#authentication).
            outcome = _with_dunning(
                outcome,
                record_payment_failure(
                    invoice=invoice, attempt=charge.attempt, now=now, reason=str(outcome.message)
                ),
            )
            if not outcome.dunning_exhausted:
                _ask_for_authentication(charge, now)
    return outcome


def _with_dunning(outcome: PaymentOutcome, dunning: PaymentOutcome) -> PaymentOutcome:
    return replace(outcome, dunning_exhausted=dunning.dunning_exhausted)


def _paid(invoice: Invoice, charge: Charge, now: datetime) -> None:
    invoice_pay(invoice=invoice, now=now, payment_reference=charge.reference)
    record_workspace_event(
        invoice.workspace_id,
        EventKind.PAYMENT_SUCCEEDED,
        now=now,
        data={"invoice": invoice.pk, "attempt": charge.attempt, "amount_cents": charge.amount_cents},
    )


def _ask_for_authentication(charge: Charge, now: datetime) -> None:
    """Email the payer the link that completes the charge (once per charge)."""
    claimed = Charge.objects.filter(pk=charge.pk, action_requested_at__isnull=True).update(
        action_requested_at=now
    )
    if not claimed:
        return
    invoice = Invoice.objects.select_related("workspace").get(pk=charge.invoice_id)
    pending = PendingChange.objects.filter(invoice=invoice, state=PendingChangeState.WAITING).first()
    record_workspace_event(
        invoice.workspace_id,
        EventKind.PAYMENT_ACTION_REQUIRED,
        now=now,
        data={"invoice": invoice.pk, "attempt": charge.attempt},
    )
    # An outbox row in the caller's transaction (EMAIL_BACKEND): sent once it commits.
    notifications.send_payment_action_required(
        workspace=invoice.workspace, invoice=invoice, lapses_at=pending.lapses_at if pending else None
    )


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
