"""Dunning: what a declined charge does, and when it is tried again (docs/rules/dunning.md).

A failed charge puts the subscription in dunning: ``past_due``, retries on days 1, 3,
5 and 7 after the first failure, the billing contacts emailed each time; the outcome of
the last failed retry says so, and :func:`billing.services.collection.collect` expires
the subscription to Free. A paid invoice takes the subscription out of dunning
(:func:`clear_dunning`, called when the payment is settled).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from billing import notifications
from billing.services.core import PaymentOutcome, record_event
from invoices.models import PAYABLE_STATUSES, Invoice, InvoiceStatus
from invoices.services import invoice_mark_payment_failed
from subscriptions.models import EventKind, Subscription, SubscriptionStatus

#: Retries after the first failed charge, in days since that failure (docs/rules/dunning.md#retry-schedule).
DUNNING_RETRY_DAYS = (1, 3, 5, 7)
#: A claimed retry is not picked again for this long (a crashed worker's claim expires).
DUNNING_CLAIM_LEASE = timedelta(hours=1)


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
        if current.status not in PAYABLE_STATUSES:
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
        if invoice is None or invoice.status not in PAYABLE_STATUSES:
            clear_dunning(subscription, now)
            return None
        subscription.next_dunning_at = now + DUNNING_CLAIM_LEASE
        subscription.save(update_fields=["next_dunning_at", "updated_at"])
        return invoice.pk, subscription.dunning_attempts + 2


def clear_dunning(subscription: Subscription, now: datetime) -> None:
    if subscription.status == SubscriptionStatus.PAST_DUE:
        in_trial = subscription.trial_end is not None and now < subscription.trial_end
        subscription.status = SubscriptionStatus.TRIALING if in_trial else SubscriptionStatus.ACTIVE
    subscription.dunning_invoice = None
    subscription.dunning_attempts = 0
    subscription.next_dunning_at = None
    subscription.past_due_since = None
    subscription.save(
        update_fields=[
            "status",
            "dunning_invoice",
            "dunning_attempts",
            "next_dunning_at",
            "past_due_since",
            "updated_at",
        ]
    )
