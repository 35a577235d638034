"""The computations of operations that change a subscription's status rather than what it
holds: cancel, reactivate, renew, expire, extend or end a trial (docs/rules/lifecycle.md).

Reads only, like :mod:`billing.services.changes`, whose shared checks they use.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from billing.services.changes import (
    CANCEL_COMMENT_MAX_LENGTH,
    billable_after,
    own_seat_lines,
    require_paid,
    seats_after,
)
from billing.services.core import Change, Context, free_terms
from domain.calendar import day_of, midnight
from domain.periods import Interval, add_interval
from invoices.models import BillingReason, Invoice, InvoiceStatus
from invoices.selectors import unpaid_invoice_ids
from subscriptions import errors, pricing
from subscriptions.models import (
    CancelReason,
    EventKind,
    SubscriptionEvent,
    SubscriptionStatus,
)


def compute_cancel(ctx: Context, reason: object, comment: object) -> Change:
    if not isinstance(reason, str) or reason not in CancelReason.values:
        raise errors.CancelReasonRequired()
    text = comment.strip() if isinstance(comment, str) else ""
    if reason == CancelReason.OTHER and not text:
        raise errors.CancelCommentRequired()
    sub = ctx.subscription
    require_paid(sub)
    if sub.status == SubscriptionStatus.CANCELED:
        raise errors.AlreadyCanceled()
    return Change(
        action="cancel",
        params={"reason": reason, "comment": text[:CANCEL_COMMENT_MAX_LENGTH]},
        lines=[],
        billing_reason=None,
        event_kind=EventKind.CANCELED,
        updates={
            "status": SubscriptionStatus.CANCELED,
            "auto_renew": False,
            "cancel_reason": reason,
            "cancel_comment": text[:CANCEL_COMMENT_MAX_LENGTH],
            "canceled_at": ctx.now,
        },
        event_data={"reason": reason, "status_before": sub.status, "access_until": sub.current_period_end},
    )


def compute_reactivate(ctx: Context) -> Change:
    sub = ctx.subscription
    if sub.plan.is_free:
        expired_before = SubscriptionEvent.objects.filter(
            workspace=ctx.workspace, kind=EventKind.EXPIRED
        ).exists()
        raise errors.ReactivationTooLate() if expired_before else errors.NotCanceled()
    if sub.status != SubscriptionStatus.CANCELED:
        raise errors.NotCanceled()
    if ctx.now >= sub.current_period_end:
        raise errors.ReactivationTooLate()
    if Invoice.objects.filter(workspace=ctx.workspace, status=InvoiceStatus.FAILED).exists():
        status = SubscriptionStatus.PAST_DUE
    elif sub.in_trial(ctx.now):
        status = SubscriptionStatus.TRIALING
    else:
        status = SubscriptionStatus.ACTIVE
    return Change(
        action="reactivate",
        params={},
        lines=[],
        billing_reason=None,
        event_kind=EventKind.REACTIVATED,
        updates={
            "status": status,
            "auto_renew": True,
            "cancel_reason": "",
            "cancel_comment": "",
            "canceled_at": None,
        },
        event_data={"status": status},
    )


def renewal_source(subscription_id: int, period_start: datetime, zone: tzinfo) -> str:
    """One renewal invoice per subscription and period, however often the sweep runs."""
    return f"renewal:{subscription_id}:{day_of(period_start, zone).isoformat()}"


def compute_renew(ctx: Context) -> Change:
    sub = ctx.subscription
    if sub.status != SubscriptionStatus.ACTIVE or not sub.auto_renew or sub.current_period_end > ctx.now:
        raise errors.NotDue()
    start = sub.current_period_end
    end = midnight(
        add_interval(
            day_of(start, ctx.zone), Interval(sub.price.interval), anchor_day=sub.billing_anchor_day
        ),
        ctx.zone,
    )
    lines = []
    if not sub.plan.is_free:
        lines = pricing.period_lines(
            plan=sub.plan,
            price=sub.price,
            billable=ctx.billable_seats,
            addons=ctx.addons,
            start=start,
            end=end,
        )
    return Change(
        action="renew",
        params={},
        lines=lines,
        billing_reason=BillingReason.SUBSCRIPTION_CYCLE,
        event_kind=EventKind.RENEWED,
        updates={"current_period_start": start, "current_period_end": end},
        source=renewal_source(sub.pk, start, ctx.zone),
        event_data={"period_start": start, "period_end": end},
    )


def compute_expire(ctx: Context, reason: str) -> Change:
    sub = ctx.subscription
    require_paid(sub)
    return Change(
        action="expire",
        params={"reason": reason},
        lines=[],
        billing_reason=None,
        event_kind=EventKind.EXPIRED,
        updates=free_terms(ctx.workspace, ctx.today),
        # Purchased credits are kept; the plan allowance becomes Free's (docs/rules/lifecycle.md#expiry).
        resets_allowance=True,
        event_data={
            "reason": reason,
            "plan": sub.plan.code,
            "plan_name": sub.plan.name,
            # Every unpaid invoice is cancelled by a credit note (docs/rules/lifecycle.md#expiry).
            "void_invoices": unpaid_invoice_ids(ctx.workspace),
        },
        expires=True,
        syncs_seats=True,
    )


#: The most days one extension adds to a trial (docs/rules/lifecycle.md#extending-a-trial).
TRIAL_EXTENSION_MAX_DAYS = 90


def compute_extend_trial(ctx: Context, days: object) -> Change:
    """A running trial ends ``days`` later (docs/rules/lifecycle.md#extending-a-trial):
    its end, the period and the co-termed seats move to the new end, which becomes the
    anchor day of the paid periods; the reminder is sent again before the new end.
    Nothing is charged now."""
    sub = ctx.subscription
    if sub.status != SubscriptionStatus.TRIALING or sub.trial_end is None or sub.trial_end <= ctx.now:
        raise errors.NotTrialing()
    if type(days) is not int or not 1 <= days <= TRIAL_EXTENSION_MAX_DAYS:
        raise errors.TrialExtensionInvalid()
    end_day = day_of(sub.trial_end, ctx.zone) + timedelta(days=days)
    end = midnight(end_day, ctx.zone)
    return Change(
        action="extend_trial",
        params={"days": days},
        lines=[],
        billing_reason=None,
        event_kind=EventKind.TRIAL_EXTENDED,
        updates={
            "trial_end": end,
            "current_period_end": end,
            "billing_anchor_day": end_day.day,
            "trial_reminder_sent_at": None,
        },
        # The renewal day moves with the anchor: the current credit period ends on it, and
        # what was used still counts (nothing is granted).
        moves_credit_period=True,
        event_data={"days": days, "trial_end_before": sub.trial_end, "trial_end": end},
        syncs_seats=True,
    )


def compute_end_trial(ctx: Context) -> Change:
    sub = ctx.subscription
    if sub.status != SubscriptionStatus.TRIALING or sub.trial_end is None:
        raise errors.NotTrialing()
    if sub.trial_end > ctx.now:
        raise errors.NotDue()
    if not ctx.has_payment_method:
        return compute_expire(ctx, "trial_ended_without_payment_method")
    start = sub.trial_end
    end = midnight(
        add_interval(
            day_of(start, ctx.zone), Interval(sub.price.interval), anchor_day=sub.billing_anchor_day
        ),
        ctx.zone,
    )
    seats = seats_after(ctx, plan=sub.plan, price=sub.price, extra_seats=sub.extra_seats)
    billable = billable_after(sub.plan, sub.extra_seats, seats)
    lines = pricing.period_lines(
        plan=sub.plan, price=sub.price, billable=billable, addons=ctx.addons, start=start, end=end
    )
    lines.extend(own_seat_lines(ctx, seats, plan_before=sub.plan, plan_after=sub.plan))
    return Change(
        action="end_trial",
        params={},
        lines=lines,
        billing_reason=BillingReason.SUBSCRIPTION_CREATE,
        event_kind=EventKind.TRIAL_ENDED,
        updates={
            "status": SubscriptionStatus.ACTIVE,
            "current_period_start": start,
            "current_period_end": end,
        },
        source=f"trial_end:{sub.pk}:{day_of(start, ctx.zone).isoformat()}",
        event_data={"plan": sub.plan.code},
        billable_after=billable,
        syncs_seats=True,
    )


def compute_expire_due(ctx: Context) -> Change:
    """Expiry at period end of a cancelled subscription (the sweep's rule)."""
    sub = ctx.subscription
    if sub.status != SubscriptionStatus.CANCELED or sub.current_period_end > ctx.now:
        raise errors.NotDue()
    return compute_expire(ctx, "canceled_period_ended")
