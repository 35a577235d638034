"""A customer's change waiting for its payment's authentication
(docs/rules/lifecycle.md#pay-then-apply).

A change that costs money is invoiced first and applied once paid. When the bank asks
the payer to authenticate (3-D Secure), the computed change is kept, exactly as
previewed and invoiced, for at most 23 hours (and never past the end of the paid period
it was priced against): paid in time, it is applied as it was confirmed, with the dates
it was priced for; otherwise it lapses, its charge is cancelled and its invoice voided
by a credit note. While one waits, the subscription takes no other change from the
customer, and its seats do not move (:func:`teams.services.common.check_no_change_waits`).
"""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from billing.services.applying import apply_change, locked_subscription, replayed_preview
from billing.services.core import Change, record_event
from invoices.models import PAYABLE_STATUSES, Invoice, InvoiceStatus
from invoices.services import invoice_void
from subscriptions.models import EventKind, PendingChange, PendingChangeState, Subscription
from workspaces.models import Membership

#: How long a change waits for its payment's authentication.
AUTHENTICATION_WINDOW = timedelta(hours=23)


def pending_create(
    *,
    subscription: Subscription,
    invoice: Invoice,
    change: Change,
    source: str,
    actor: Membership | None,
    token: str,
    now: datetime,
) -> PendingChange:
    """Keep the change its invoice pays for (inside the caller's transaction)."""
    lapses_at = now + AUTHENTICATION_WINDOW
    # A change to a paid plan is priced against the current period, so it lapses with it;
    # one that leaves Free starts a period of its own, and Free's end does not shorten it.
    ends = subscription.current_period_end
    if not subscription.plan.is_free and ends is not None and now < ends < lapses_at:
        lapses_at = ends
    # The change is our own computed value, written and read only by this module.
    payload = pickle.dumps({"change": change, "source": source}, protocol=pickle.HIGHEST_PROTOCOL)
    return PendingChange.objects.create(
        subscription=subscription,
        invoice=invoice,
        change=payload,
        token=token,
        actor=actor,
        created_at=now,
        lapses_at=lapses_at,
    )


def waiting_change(subscription: Subscription) -> PendingChange | None:
    return PendingChange.objects.filter(subscription=subscription, state=PendingChangeState.WAITING).first()


def pending_apply(*, invoice_id: int, now: datetime) -> bool:
    """The invoice is paid: apply the change it paid for, once. Returns whether one was."""
    with transaction.atomic():
        invoice = Invoice.objects.select_related("workspace").get(pk=invoice_id)
        if invoice.status != InvoiceStatus.PAID:
            return False
        if not PendingChange.objects.filter(invoice=invoice, state=PendingChangeState.WAITING).exists():
            return False
        subscription = locked_subscription(invoice.workspace, now)
        pending = PendingChange.objects.select_for_update().get(invoice=invoice)
        if pending.state != PendingChangeState.WAITING:
            return False
        stored = pickle.loads(pending.change)  # noqa: S301 - our own row (pending_create)
        change: Change = stored["change"]
        workspace = invoice.workspace
        apply_change(
            workspace,
            subscription,
            change,
            replayed_preview(workspace, pending.token, invoice, 0),
            pending.actor,
            stored["source"],
            pending.token,
            now,
        )
        pending.state, pending.settled_at = PendingChangeState.APPLIED, now
        pending.save(update_fields=["state", "settled_at"])
    return True


def pending_drop(*, invoice_id: int, now: datetime, reason: str) -> bool:
    """The change's payment failed or was never authenticated: the change lapses and its
    invoice is voided (inside the caller's transaction or its own). Returns whether a
    waiting change was dropped."""
    with transaction.atomic():
        pending = (
            PendingChange.objects.select_for_update()
            .select_related("subscription", "invoice")
            .filter(invoice_id=invoice_id, state=PendingChangeState.WAITING)
            .first()
        )
        if pending is None:
            return False
        if Invoice.objects.filter(pk=invoice_id, status__in=PAYABLE_STATUSES).exists():
            invoice_void(invoice=pending.invoice, now=now)
        pending.state, pending.settled_at = PendingChangeState.LAPSED, now
        pending.save(update_fields=["state", "settled_at"])
        record_event(
            pending.subscription,
            EventKind.PAYMENT_FAILED,
            now=now,
            actor=pending.actor,
            data={"invoice": invoice_id, "reason": reason, "change_applied": False, "token": pending.token},
        )
    return True


def lapsed_changes(now: datetime) -> list[int]:
    """Invoices whose change waited past its window, oldest first."""
    return list(
        PendingChange.objects.filter(state=PendingChangeState.WAITING, lapses_at__lte=now)
        .order_by("lapses_at", "id")
        .values_list("invoice_id", flat=True)
    )


def lapse_message() -> str:
    return _("The payment was not authenticated in time; the change was not made.")
