"""Writing a billing operation once it is decided: the subscription, its seats, its
invoice or credit note, its event and its allowance (docs/rules/lifecycle.md), inside the
transaction of :func:`billing.services.lifecycle` that holds the rows' locks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from billing.services.core import (
    ApplyResult,
    Change,
    Context,
    PaymentOutcome,
    Preview,
    build_preview,
    load_context,
    lock_subscription,
    record_event,
)
from billing.services.settlement import corrected_invoice, invoice_issue
from credits.services import allowance_period_follow, allowance_reset_for_plan_change
from invoices.models import PAYABLE_STATUSES, ChargeStatus, Invoice
from invoices.services import account_balance_credit, invoice_void
from invoices.totals import Totals
from subscriptions import errors
from subscriptions.models import (
    AddOn,
    EventKind,
    Subscription,
    SubscriptionAddOn,
    SubscriptionEvent,
)
from subscriptions.pricing import AddOnLine
from teams.services import lock_seats, seats_sync
from workspaces.models import Membership, Workspace

Compute = Callable[[Context], Change]


def save_updates(subscription: Subscription, updates: dict[str, Any]) -> None:
    for name, value in updates.items():
        setattr(subscription, name, value)
    subscription.clean_fields(exclude=["workspace", "plan", "price"])
    subscription.save(update_fields=[*updates, "updated_at"])


def locked_subscription(workspace: Workspace, now: datetime) -> Subscription:
    """The subscription row, locked after the workspace's seat lock (the order of
    :mod:`teams.services`)."""
    lock_seats(workspace.pk)
    return lock_subscription(workspace, now)


def change_of(
    workspace: Workspace, subscription: Subscription, now: datetime, compute: Compute
) -> tuple[Context, Change, Preview]:
    ctx = load_context(workspace, subscription, now)
    change = compute(ctx)
    return ctx, change, build_preview(ctx, change)


def issue_for(workspace: Workspace, change: Change, preview: Preview, source: str, now: datetime) -> Invoice:
    """The change's invoice, exactly as previewed (never charge anything but that)."""
    assert change.billing_reason
    invoice = invoice_issue(
        workspace=workspace, lines=change.lines, billing_reason=change.billing_reason, source=source, now=now
    )
    if (invoice.total_cents, invoice.amount_due_cents) != (
        preview.totals.total_cents,
        preview.totals.amount_due_cents,
    ):
        # The account balance moved between our read and the invoice.
        raise errors.StalePreview()
    return invoice


def apply_change(
    workspace: Workspace,
    subscription: Subscription,
    change: Change,
    preview: Preview,
    actor: Membership | None,
    source: str,
    token: str,
    now: datetime,
) -> Invoice | None:
    """Write the change: the subscription, its seats, its invoice or credit note, the
    event and the allowance (inside the caller's transaction, rows locked)."""
    void_invoice_ids = change.event_data.get("void_invoices", []) if change.expires else []
    save_updates(subscription, change.updates)
    if change.expires:
        SubscriptionAddOn.objects.filter(subscription=subscription).delete()
        for unpaid in Invoice.objects.filter(pk__in=void_invoice_ids, status__in=PAYABLE_STATUSES).order_by(
            "issued_at", "id"
        ):
            invoice_void(invoice=unpaid, now=now)
    addons_after = getattr(change, "addons_after", None)  # a change pickled before add-ons had none
    if addons_after is not None:
        addons_sync(subscription, addons_after)
    if change.syncs_seats:
        # The seat rows now say what the invoice below bills (docs/rules/proration.md#co-terming):
        # co-termed seats on it, seats on their own interval on their own renewals.
        seats_sync(workspace=workspace, now=now)
    invoice = None
    if change.billing_reason and preview.totals.total_cents > 0:
        invoice = issue_for(workspace, change, preview, source, now)
    elif preview.totals.total_cents < 0:
        invoice = _credit(workspace, change, preview, source, now)
    record_event(
        subscription,
        change.event_kind,
        now=now,
        actor=actor,
        data={
            **change.event_data,
            "invoice": invoice.pk if invoice is not None else None,
            "total_cents": preview.totals.total_cents,
            "account_credit_cents": preview.account_credit_cents,
            "token": token,
        },
    )
    if change.resets_allowance:
        allowance_reset_for_plan_change(workspace=workspace, now=now)
    elif getattr(change, "moves_credit_period", False):  # a change pickled before it had none
        allowance_period_follow(workspace=workspace, now=now)
    return invoice


def addons_sync(subscription: Subscription, addons: tuple[AddOnLine, ...]) -> None:
    """The subscription's add-on rows become ``addons`` (by code; quantity 0 removes one)."""
    wanted = {line.code: line.quantity for line in addons if line.quantity > 0}
    SubscriptionAddOn.objects.filter(subscription=subscription).exclude(addon__code__in=wanted).delete()
    for addon in AddOn.objects.filter(code__in=wanted):
        SubscriptionAddOn.objects.update_or_create(
            subscription=subscription, addon=addon, defaults={"quantity": wanted[addon.code]}
        )


def _credit(
    workspace: Workspace, change: Change, preview: Preview, source: str, now: datetime
) -> Invoice | None:
    """A net credit is a credit note correcting the last invoice; its amount, VAT
    included, goes to the account balance (docs/rules/invoices.md#credit-notes)."""
    corrected = corrected_invoice(workspace)
    if corrected is None:
        account_balance_credit(
            workspace=workspace,
            amount_cents=preview.account_credit_cents,
            currency=workspace.currency,
            reason=change.action,
            source=source,
            now=now,
        )
        return None
    invoice = invoice_issue(
        workspace=workspace,
        lines=change.lines,
        billing_reason=change.billing_reason or corrected.billing_reason,
        source=source,
        now=now,
        corrects_id=corrected.pk,
    )
    if invoice.total_cents != preview.totals.total_cents:
        raise errors.StalePreview()
    return invoice


def applied_before(workspace: Workspace, subscription: Subscription, token: str) -> ApplyResult | None:
    """The result of the operation this token confirmed already, if any
    (docs/rules/lifecycle.md#one-operation-per-confirmation).

    Looked up before the operation is computed again: by then the state has moved (the
    plan is the new one, the switch is done), and the operation's own checks would refuse
    what is only a repeat. An invoice issued under the token whose charge has not come
    back yet is that operation too, still in flight."""
    if not token:
        return None
    event = (
        SubscriptionEvent.objects.filter(subscription=subscription, data__token=token).order_by("-id").first()
    )
    if event is not None:
        invoice_id = event.data.get("invoice")
        invoice = Invoice.objects.filter(pk=invoice_id).first() if invoice_id else None
        payment = None
        if event.kind == EventKind.PAYMENT_FAILED:
            payment = PaymentOutcome(succeeded=False, message=str(event.data.get("reason") or ""))
        credit = int(event.data.get("account_credit_cents") or 0)
    else:
        invoice = Invoice.objects.filter(workspace=workspace, source__endswith=f":{token}").first()
        if invoice is None:
            return None
        credit = 0
        charge = invoice.charges.order_by("-attempt").first()
        payment = (
            PaymentOutcome(
                succeeded=False,
                message=_("Your bank asks you to confirm this payment."),
                requires_action=True,
                invoice_id=invoice.pk,
            )
            if charge is not None and charge.status == ChargeStatus.REQUIRES_ACTION
            else None
        )
    return ApplyResult(
        subscription=subscription,
        preview=replayed_preview(workspace, token, invoice, credit),
        invoice=invoice,
        account_credit_cents=credit,
        payment=payment,
    )


def replayed_preview(workspace: Workspace, token: str, invoice: Invoice | None, credit_cents: int) -> Preview:
    """What a replayed confirmation reports: the first operation's document and credit."""
    totals = (
        Totals(
            subtotal_cents=invoice.subtotal_cents,
            vat_rate_bp=invoice.vat_rate_bp,
            vat_cents=invoice.vat_cents,
            reverse_charge=invoice.reverse_charge,
            total_cents=invoice.total_cents,
            account_credit_applied_cents=invoice.account_credit_applied_cents,
            amount_due_cents=invoice.amount_due_cents,
            account_credit_remaining_cents=0,
        )
        if invoice is not None
        else Totals(0, 0, 0, False, 0, 0, 0, 0)
    )
    return Preview(
        action="replay",
        workspace_id=workspace.pk,
        currency=invoice.currency if invoice else workspace.currency,
        lines=(),
        totals=totals,
        total_due_now_cents=totals.amount_due_cents,
        account_credit_cents=credit_cents,
        next_renewal_cents=None,
        next_renewal_at=None,
        fingerprint="",
        token=token,
    )
