"""Charging invoices, dunning, and saving the card a gateway accepted.

Charges run outside database transactions (a gateway call must never hold row locks
nor be rolled back after the money moved); each is keyed ``invoice:<id>:attempt:<n>``
so a replay returns the first result. A failed charge puts the subscription in dunning
(SPEC.md "Renewal"): ``past_due``, retries on days 1, 3, 5 and 7 after the first
failure, the owner and admins emailed each time, expiry to Free after the last one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from billing import notifications
from billing.services.core import PaymentOutcome, check_manager, record_event
from billing.services.settlement import clear_dunning, invoice_pay
from gateways.base import CardDeclined, CardInfo, ChargeResult, get_gateway
from invoices.models import Invoice, InvoiceStatus
from invoices.services import invoice_mark_payment_failed
from subscriptions.models import EventKind, PaymentMethod, Subscription, SubscriptionStatus
from workspaces.models import Membership, Workspace

#: The Celery task that charges one invoice, by its name (tasks import services, never
#: the reverse): it runs :func:`billing.services.collection.collect`.
CHARGE_TASK = "billing.tasks.charge_invoice_task"
#: Retries after the first failed charge, in days since that failure (SPEC.md "Renewal").
DUNNING_RETRY_DAYS = (1, 3, 5, 7)
#: A claimed retry is not picked again for this long (a crashed worker's claim expires).
DUNNING_CLAIM_LEASE = timedelta(hours=1)

_PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.FAILED)


def charge_key(invoice_id: int, attempt: int) -> str:
    return f"invoice:{invoice_id}:attempt:{attempt}"


def charge_invoice(*, invoice_id: int, attempt: int, now: datetime) -> PaymentOutcome:
    """Charge what an open or failed invoice still asks for, then record the outcome.

    Call it outside any transaction. A paid invoice is not charged again. A gateway
    :class:`~gateways.base.PaymentError` (outcome unknown) propagates, so the
    task can retry with the same attempt number, hence the same idempotency key.
    """
    invoice = Invoice.objects.select_related("workspace").get(pk=invoice_id)
    if invoice.status == InvoiceStatus.PAID:
        return PaymentOutcome(
            succeeded=True, message=_("The invoice is paid."), reference=invoice.payment_reference
        )
    if invoice.status not in _PAYABLE:
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


def record_payment_failure(*, invoice: Invoice, attempt: int, now: datetime, reason: str) -> PaymentOutcome:
    """A declined charge: the invoice fails, the subscription enters (or stays in) dunning,
    the next retry is scheduled and the billing contacts are told; after the last retry
    the outcome says so, and :func:`billing.services.collection.collect` expires the
    subscription to Free."""
    exhausted = False
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("plan")
            .filter(workspace_id=invoice.workspace_id)
            .first()
        )
        current = Invoice.objects.get(pk=invoice.pk)
        if current.status not in _PAYABLE:
            return PaymentOutcome(succeeded=current.status == InvoiceStatus.PAID, message=reason)
        next_at = None
        if subscription is not None and not subscription.plan.is_free:
            if subscription.dunning_invoice_id != invoice.pk:
                subscription.dunning_invoice = invoice
                subscription.past_due_since = now
                subscription.dunning_attempts = 0
                if subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
                    subscription.status = SubscriptionStatus.PAST_DUE
            elif attempt - 1 <= subscription.dunning_attempts:
                # This attempt was recorded already (a task delivered twice): nothing more.
                return PaymentOutcome(succeeded=False, message=reason)
            else:
                subscription.dunning_attempts = attempt - 1
            retries_done = subscription.dunning_attempts
            if retries_done >= len(DUNNING_RETRY_DAYS):
                exhausted = True
            else:
                assert subscription.past_due_since is not None
                next_at = subscription.past_due_since + timedelta(days=DUNNING_RETRY_DAYS[retries_done])
            subscription.next_dunning_at = next_at
            subscription.save(
                update_fields=[
                    "dunning_invoice",
                    "past_due_since",
                    "dunning_attempts",
                    "status",
                    "next_dunning_at",
                    "updated_at",
                ]
            )
            record_event(
                subscription,
                EventKind.PAYMENT_FAILED,
                now=now,
                data={
                    "invoice": invoice.pk,
                    "attempt": attempt,
                    "next_attempt_at": next_at,
                    "reason": reason,
                },
            )
        invoice = invoice_mark_payment_failed(
            invoice=invoice, now=now, next_attempt_at=next_at, reason=reason
        )
    if not exhausted:
        notifications.send_payment_failed(
            workspace=invoice.workspace, invoice=invoice, next_attempt_at=next_at, reason=reason
        )
    return PaymentOutcome(succeeded=False, message=reason, dunning_exhausted=exhausted)


def dunning_claim(*, subscription_id: int, now: datetime) -> tuple[int, int] | None:
    """Claim a due retry: ``(invoice id, attempt number)``, or ``None`` if it is not due
    (any more). The claim pushes the next retry time out by a lease, so a second sweep
    does not charge again while the first is still at work."""
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(pk=subscription_id, next_dunning_at__lte=now)
            .first()
        )
        if subscription is None:
            return None
        invoice = (
            Invoice.objects.filter(pk=subscription.dunning_invoice_id).only("status").first()
            if subscription.dunning_invoice_id
            else None
        )
        if invoice is None or invoice.status not in _PAYABLE:
            clear_dunning(subscription, now)
            return None
        subscription.next_dunning_at = now + DUNNING_CLAIM_LEASE
        subscription.save(update_fields=["next_dunning_at", "updated_at"])
        return invoice.pk, subscription.dunning_attempts + 2


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
