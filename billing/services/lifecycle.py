"""The subscription lifecycle (docs/rules/lifecycle.md), as previews
and applies.

Each operation is a pair: ``preview_<x>(…) -> Preview`` computes the exact cost summary
(lines with their formula, VAT, account credit applied, total due now, next renewal), and
``apply_<x>(…, preview) -> ApplyResult`` does exactly that: it locks the subscription row,
recomputes the preview in the same transaction and refuses a stale one
(:class:`~subscriptions.errors.StalePreview`), then changes the subscription, issues the
invoice (or credits the account balance when the net is a credit) and records an audit
event. Charging happens after the transaction has committed (Stripe calls never run
inside a database transaction), with the idempotency key ``invoice:<id>:attempt:1``.

``preview`` may be the :class:`Preview` itself or its fingerprint, as a confirmation form
posts it back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import Kind as AuditKind
from audit.services import record as audit_record
from billing import notifications
from billing.services import changes, status_changes
from billing.services.applying import (
    applied_before,
    apply_change,
    change_of,
    issue_for,
    locked_subscription,
)
from billing.services.core import (
    ApplyResult,
    Change,
    Context,
    PaymentOutcome,
    Preview,
    check_actor,
    check_manager,
    compute_preview,
    confirmed,
)
from billing.services.payments import CHARGE_TASK, charge_invoice
from billing.services.pending import pending_create, waiting_change
from gateways.base import PaymentError
from invoices.models import Invoice, InvoiceStatus
from outbox.services import enqueue_task
from subscriptions import errors
from workspaces.models import Membership, Workspace

Compute = Callable[[Context], Change]

#: The audit entry's kind of the operations that are not "Subscription changed".
_AUDIT_KINDS = {"extend_trial": AuditKind.TRIAL_EXTENDED}


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _run(
    *,
    workspace: Workspace,
    actor: Membership | None,
    expected: str | None,
    now: datetime,
    compute: Compute,
    token: str = "",
    pay_first: bool = False,
) -> ApplyResult:
    """Recompute under the row lock, refuse a stale preview, then write and charge.

    A confirmation whose ``token`` was applied already is that first operation, returned
    again (a double submit, a replayed request); without a token every call is a new
    operation. The invoice's source is the token, never the state or the date
    (docs/rules/lifecycle.md#one-operation-per-confirmation).

    With ``pay_first`` (a customer's own change), a change that costs money is invoiced
    and charged first, and applied only once paid; a declined charge voids the invoice
    and changes nothing (docs/rules/lifecycle.md#pay-then-apply). When the gateway cannot
    tell (outcome unknown), the change is applied and the charge retried in a task.

    Locks: the workspace's seat lock first, then the subscription row (the order of
    :mod:`teams.services`), so the licences and paid seats the change is priced from
    cannot move before :func:`teams.services.seats_sync` matches them to it.
    """
    with transaction.atomic():
        subscription = locked_subscription(workspace, now)
        first = applied_before(workspace, subscription, token)
        if first is not None:
            return first
        if pay_first and waiting_change(subscription) is not None:
            raise errors.PaymentAwaitingAuthentication()
        ctx, change, preview = change_of(workspace, subscription, now, compute)
        if expected is not None and preview.fingerprint != expected:
            raise errors.StalePreview()
        before: dict[str, Any] = {
            "plan": subscription.plan.code,
            "interval": subscription.price.interval,
            "status": subscription.status,
            "extra_seats": subscription.extra_seats,
            "auto_renew": subscription.auto_renew,
        }
        if change.action == "extend_trial":
            before["trial_end"] = subscription.trial_end
        if preview.total_due_now_cents > 0 and not ctx.has_payment_method:
            raise errors.PaymentMethodRequired()
        source = change.source or f"{change.action}:{subscription.pk}:{token or uuid.uuid4().hex}"
        charged_first = pay_first and bool(change.billing_reason) and preview.total_due_now_cents > 0
        if charged_first:
            invoice: Invoice | None = issue_for(workspace, change, preview, source, now)
            assert invoice is not None
            pending_create(
                subscription=subscription,
                invoice=invoice,
                change=change,
                source=source,
                actor=actor,
                token=token,
                now=now,
            )
        else:
            invoice = apply_change(workspace, subscription, change, preview, actor, source, token, now)
        audit_record(
            kind=_AUDIT_KINDS.get(change.action, AuditKind.SUBSCRIPTION_CHANGED), workspace=workspace,
            actor=actor.user if actor else None,
            object_type="subscription", object_id=subscription.pk, object_repr=change.action,
            before=before,
            after={**{k: preview.outcome[k] for k in before if k in preview.outcome},
                   "total_due_now_cents": preview.total_due_now_cents,
                   "account_credit_cents": preview.account_credit_cents, "currency": preview.currency},
            reason=str(change.params.get("reason", "")), now=now,
        )  # fmt: skip
    payment = None
    if invoice is not None and invoice.status == InvoiceStatus.OPEN:
        try:
            # Paid, the waiting change is applied; declined, it lapses and its invoice is
            # voided (billing.services.payments.charge_answered).
            payment = charge_invoice(invoice_id=invoice.pk, attempt=1, now=now)
        except PaymentError as exc:
            # The gateway could not tell: the charge task asks again with the same key, a
            # minute later, from the outbox (a broker outage never fails this request).
            enqueue_task(CHARGE_TASK, invoice.pk, 1, now.isoformat(), delay=60)
            payment = PaymentOutcome(
                succeeded=False, message=str(exc.message), invoice_id=invoice.pk, requires_action=False
            )
    if invoice is not None:
        invoice.refresh_from_db()
    if change.expires:
        notifications.send_subscription_expired(
            workspace=workspace, plan_name=str(change.event_data["plan_name"])
        )
    subscription.refresh_from_db()
    return ApplyResult(
        subscription=subscription,
        preview=preview,
        invoice=invoice,
        account_credit_cents=preview.account_credit_cents,
        payment=payment,
    )


def _user_op(
    workspace: Workspace, actor: Membership, preview: Preview | str, now: datetime | None, compute: Compute
) -> ApplyResult:
    check_manager(actor, workspace)
    fingerprint, token = confirmed(preview)
    return _run(
        workspace=workspace,
        actor=actor,
        expected=fingerprint,
        now=_now(now),
        compute=compute,
        token=token,
        pay_first=True,
    )


def _system_op(
    workspace: Workspace,
    actor: Membership | None,
    preview: Preview | str | None,
    now: datetime | None,
    compute: Compute,
) -> ApplyResult:
    check_actor(actor, workspace)
    fingerprint, token = confirmed(preview) if preview is not None else (None, "")
    return _run(
        workspace=workspace, actor=actor, expected=fingerprint, now=_now(now), compute=compute, token=token
    )


# --- Public previews and applies ----------------------------------------------------------


def preview_subscribe(
    *,
    workspace: Workspace,
    price_id: int,
    trial: bool = False,
    extra_seats: int = 0,
    now: datetime | None = None,
) -> Preview:
    """Subscribe a Free workspace to a paid price (with extra seats if wanted), the first
    period charged now; or start the plan's free trial (once per workspace), charged at
    its end."""
    price = changes.sellable_price(workspace, price_id)
    return compute_preview(
        workspace, _now(now), lambda ctx: changes.compute_subscribe(ctx, price, trial, extra_seats)
    )


def apply_subscribe(
    *,
    workspace: Workspace,
    actor: Membership,
    price_id: int,
    preview: Preview | str,
    trial: bool = False,
    extra_seats: int = 0,
    now: datetime | None = None,
) -> ApplyResult:
    check_manager(actor, workspace)
    price = changes.sellable_price(workspace, price_id)
    return _user_op(
        workspace, actor, preview, now, lambda ctx: changes.compute_subscribe(ctx, price, trial, extra_seats)
    )


def preview_change_plan(*, workspace: Workspace, price_id: int, now: datetime | None = None) -> Preview:
    """Change plan now, prorated (docs/rules/lifecycle.md#change-plan): net = the new plan's remaining time − the old
    plan's unused time, both by :func:`~domain.proration.charge_proration` over the
    same span. A positive net is invoiced and charged now; a negative one goes to the
    account balance. The billing period stays; annual cannot go back to monthly."""
    price = changes.sellable_price(workspace, price_id)
    return compute_preview(workspace, _now(now), lambda ctx: changes.compute_change_plan(ctx, price))


def apply_change_plan(
    *,
    workspace: Workspace,
    actor: Membership,
    price_id: int,
    preview: Preview | str,
    now: datetime | None = None,
) -> ApplyResult:
    check_manager(actor, workspace)
    price = changes.sellable_price(workspace, price_id)
    return _user_op(workspace, actor, preview, now, lambda ctx: changes.compute_change_plan(ctx, price))


def preview_switch_to_annual(*, workspace: Workspace, now: datetime | None = None) -> Preview:
    """Monthly → annual (docs/rules/lifecycle.md#switch-to-annual): immediate, the annual period starts today, the unused
    monthly time is credited; irreversible until the annual period ends."""
    return compute_preview(workspace, _now(now), changes.compute_switch_to_annual)


def apply_switch_to_annual(
    *, workspace: Workspace, actor: Membership, preview: Preview | str, now: datetime | None = None
) -> ApplyResult:
    return _user_op(workspace, actor, preview, now, changes.compute_switch_to_annual)


def preview_customize(
    *,
    workspace: Workspace,
    extra_seats: int,
    credit_packs: int = 0,
    addons: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> Preview:
    """Extra seats and add-ons (prorated, charged or credited now; ``addons`` the wanted
    quantity by add-on code, None keeps them) and extra credit packs (one-off,
    ``plan.credit_pack_size`` credits at ``price.credit_pack_amount`` each, on every plan
    selling a pack, Free included). The credits are granted only once the invoice is paid
    (:func:`billing.services.settlement.settle_paid`)."""
    return compute_preview(
        workspace, _now(now), lambda ctx: changes.compute_customize(ctx, extra_seats, credit_packs, addons)
    )


def apply_customize(
    *,
    workspace: Workspace,
    actor: Membership,
    extra_seats: int,
    preview: Preview | str,
    credit_packs: int = 0,
    addons: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    return _user_op(
        workspace,
        actor,
        preview,
        now,
        lambda ctx: changes.compute_customize(ctx, extra_seats, credit_packs, addons),
    )


def preview_cancel(
    *, workspace: Workspace, reason: str, comment: str = "", now: datetime | None = None
) -> Preview:
    """Cancel with one of the eight reasons (docs/rules/lifecycle.md#cancel) (free text required for "Other"):
    auto-renew off, access until the period ends, then expiry to Free."""
    return compute_preview(
        workspace, _now(now), lambda ctx: status_changes.compute_cancel(ctx, reason, comment)
    )


def apply_cancel(
    *,
    workspace: Workspace,
    actor: Membership,
    reason: str,
    preview: Preview | str,
    comment: str = "",
    now: datetime | None = None,
) -> ApplyResult:
    return _user_op(
        workspace, actor, preview, now, lambda ctx: status_changes.compute_cancel(ctx, reason, comment)
    )


def preview_reactivate(*, workspace: Workspace, now: datetime | None = None) -> Preview:
    """Undo a cancellation before the period ends ("Réactiver l'abonnement")."""
    return compute_preview(workspace, _now(now), status_changes.compute_reactivate)


def apply_reactivate(
    *, workspace: Workspace, actor: Membership, preview: Preview | str, now: datetime | None = None
) -> ApplyResult:
    return _user_op(workspace, actor, preview, now, status_changes.compute_reactivate)


def preview_renew(*, workspace: Workspace, now: datetime | None = None) -> Preview:
    """The renewal at period end with auto-renew on: plan base, billable seats and add-ons
    of the next period, invoiced and charged."""
    return compute_preview(workspace, _now(now), status_changes.compute_renew)


def apply_renew(
    *,
    workspace: Workspace,
    preview: Preview | str | None = None,
    actor: Membership | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    return _system_op(workspace, actor, preview, now, status_changes.compute_renew)


def preview_end_trial(*, workspace: Workspace, now: datetime | None = None) -> Preview:
    """Trial end (docs/rules/lifecycle.md#trial): a payment method on file → active and the first period charged;
    none → expired to Free."""
    return compute_preview(workspace, _now(now), status_changes.compute_end_trial)


def apply_end_trial(
    *,
    workspace: Workspace,
    preview: Preview | str | None = None,
    actor: Membership | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    return _system_op(workspace, actor, preview, now, status_changes.compute_end_trial)


def preview_extend_trial(*, workspace: Workspace, days: int, now: datetime | None = None) -> Preview:
    """A running trial made longer by ``days`` (docs/rules/lifecycle.md#extending-a-trial):
    nothing charged now; the preview's next renewal is the first charge at the new end."""
    return compute_preview(workspace, _now(now), lambda ctx: status_changes.compute_extend_trial(ctx, days))


def apply_extend_trial(
    *,
    workspace: Workspace,
    days: int,
    preview: Preview | str,
    actor: Membership | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    return _system_op(
        workspace, actor, preview, now, lambda ctx: status_changes.compute_extend_trial(ctx, days)
    )


def preview_expire(*, workspace: Workspace, reason: str = "operator", now: datetime | None = None) -> Preview:
    """Fall back to the Free plan (status active on Free): add-ons and extra seats end,
    an unpaid dunning invoice is voided, purchased credits are kept and the allowance
    becomes Free's."""
    return compute_preview(workspace, _now(now), lambda ctx: status_changes.compute_expire(ctx, reason))


def apply_expire(
    *,
    workspace: Workspace,
    preview: Preview | str | None = None,
    reason: str = "operator",
    actor: Membership | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    return _system_op(workspace, actor, preview, now, lambda ctx: status_changes.compute_expire(ctx, reason))


def expire_if_due(*, workspace: Workspace, now: datetime) -> ApplyResult:
    """The sweep's expiry of a cancelled subscription whose period has ended."""
    return _system_op(workspace, None, None, now, status_changes.compute_expire_due)


def expire_after_dunning(*, workspace: Workspace, now: datetime) -> ApplyResult:
    """Still unpaid after the last retry (day 7): expired to Free."""
    return _system_op(
        workspace, None, None, now, lambda ctx: status_changes.compute_expire(ctx, "payment_failed")
    )
