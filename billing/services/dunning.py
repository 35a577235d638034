"""Dunning, per invoice: what a declined charge does, and when it is tried again
(docs/rules/dunning.md).

Every unpaid invoice keeps its own schedule: retries on days 1, 3, 5 and 7 after its own
first failure. The subscription is ``past_due`` while any of its workspace's invoices is
failed (:func:`refresh_past_due`). The outcome of a failed attempt after the last retry
says so, and :func:`billing.services.collection.collect` carries out what that invoice's
last failure means.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max

from billing import notifications
from billing.services.core import PaymentOutcome, record_event
from invoices.models import PAYABLE_STATUSES, Charge, ChargeStatus, Invoice, InvoiceStatus
from invoices.services import invoice_mark_payment_failed
from subscriptions.models import EventKind, Subscription, SubscriptionStatus

#: Retries after an invoice's first failed charge, in days since that failure (docs/rules/dunning.md#retry-schedule).
DUNNING_RETRY_DAYS = (1, 3, 5, 7)
#: A claimed retry is not picked again for this long (a crashed worker's claim expires).
DUNNING_CLAIM_LEASE = timedelta(hours=1)


def next_retry_at(first_failure: datetime, now: datetime) -> datetime | None:
    """The next scheduled retry after ``now`` of an invoice that first failed at
    ``first_failure``; ``None`` once the last one (day 7) is past: dunning is over."""
    for days in DUNNING_RETRY_DAYS:
        due = first_failure + timedelta(days=days)
        if due > now:
            return due
    return None


def record_payment_failure(*, invoice: Invoice, attempt: int, now: datetime, reason: str) -> PaymentOutcome:
    """A declined charge (attempt ``attempt``) of an invoice charged without the customer:
    the invoice fails and its next retry is scheduled from its own first failure, the
    subscription is past due, and the billing contacts are told. After the last retry
    the outcome says so (``dunning_exhausted``)."""
    with transaction.atomic():
        current = Invoice.objects.select_for_update().select_related("workspace").get(pk=invoice.pk)
        if current.status not in PAYABLE_STATUSES:
            return PaymentOutcome(succeeded=current.status == InvoiceStatus.PAID, message=reason)
        if attempt <= current.attempt_count:
            # This attempt was recorded already (a task delivered twice): nothing more.
            return PaymentOutcome(succeeded=False, message=reason)
        first_failure = current.past_due_since or now
        next_at = next_retry_at(first_failure, now)
        current = invoice_mark_payment_failed(
            invoice=current, now=now, next_attempt_at=next_at, reason=reason, past_due_since=first_failure
        )
        subscription = refresh_past_due(workspace_id=current.workspace_id, now=now)
        if subscription is not None:
            record_event(
                subscription,
                EventKind.PAYMENT_FAILED,
                now=now,
                data={
                    "invoice": current.pk,
                    "attempt": attempt,
                    "next_attempt_at": next_at,
                    "reason": reason,
                },
            )
    exhausted = next_at is None
    if not exhausted:
        notifications.send_payment_failed(
            workspace=current.workspace, invoice=current, next_attempt_at=next_at, reason=reason
        )
    return PaymentOutcome(succeeded=False, message=reason, dunning_exhausted=exhausted)


def due_retries(now: datetime) -> list[int]:
    """The failed invoices whose next retry is due, oldest first."""
    return list(
        Invoice.objects.filter(status=InvoiceStatus.FAILED, next_payment_attempt_at__lte=now)
        .order_by("next_payment_attempt_at", "id")
        .values_list("pk", flat=True)
    )


def claim_attempt(*, invoice_id: int, now: datetime, due_only: bool = True) -> int | None:
    """Claim the next charge attempt of an unpaid invoice: its number, or ``None`` if it
    is not due (any more) or is being charged. The claim pushes the next retry out by a
    lease, so a second sweep does not charge again while the first is at work; two
    claims racing get the same number, hence the same idempotency key, one charge."""
    with transaction.atomic():
        invoices = Invoice.objects.select_for_update(skip_locked=True).filter(
            pk=invoice_id, status__in=PAYABLE_STATUSES
        )
        if due_only:
            invoices = invoices.filter(next_payment_attempt_at__lte=now)
        invoice = invoices.first()
        if invoice is None:
            return None
        if invoice.status == InvoiceStatus.FAILED:
            invoice.next_payment_attempt_at = now + DUNNING_CLAIM_LEASE
            invoice.save(update_fields=["next_payment_attempt_at"])
        # After the last answered attempt: one still waiting for its payer's
        # authentication is replaced (and cancelled first, never paid twice); one not
        # answered yet is asked again under its own key.
        answered = (
            Charge.objects.filter(invoice_id=invoice.pk)
            .exclude(status=ChargeStatus.PENDING)
            .aggregate(last=Max("attempt"))["last"]
        )
        return max(int(invoice.attempt_count), answered or 0) + 1


def refresh_past_due(*, workspace_id: Any, now: datetime) -> Subscription | None:
    """The subscription is ``past_due`` while any invoice of its workspace is failed, and
    back to ``active`` (or ``trialing``) once none is (docs/rules/dunning.md#subscription-status).
    Returns the subscription, locked, or ``None`` when the workspace has none."""
    subscription = (
        Subscription.objects.select_for_update(of=("self",)).filter(workspace_id=workspace_id).first()
    )
    if subscription is None:
        return None
    oldest = (
        Invoice.objects.filter(workspace_id=workspace_id, status=InvoiceStatus.FAILED)
        .order_by("past_due_since", "id")
        .values_list("past_due_since", flat=True)
        .first()
    )
    status = subscription.status
    if oldest is not None and status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
        status = SubscriptionStatus.PAST_DUE
    elif oldest is None and status == SubscriptionStatus.PAST_DUE:
        in_trial = subscription.in_trial(now)
        status = SubscriptionStatus.TRIALING if in_trial else SubscriptionStatus.ACTIVE
    if (status, oldest) != (subscription.status, subscription.past_due_since):
        subscription.status, subscription.past_due_since = status, oldest
        subscription.save(update_fields=["status", "past_due_since", "updated_at"])
    return subscription
