"""The billing period of a paid seat (weekly, monthly or annual; seed 002,
docs/rules/proration.md#changing-a-seats-period).

Every change of a seat's period, or of the change waiting on it, writes one audit entry
with the values that changed (docs/rules/operators.md#audit-trail): the admin's request,
its replacement or cancellation, and the daily seat job applying or dropping it (the
system's).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from django.db import transaction

from audit.models import Kind as AuditKind
from audit.services import record_changes as audit_record_changes
from domain.calendar import day_of, midnight
from domain.periods import Interval
from domain.proration import charge_proration
from subscriptions.models import Channel, Subscription
from teams import errors
from teams.models import ChargeKind, ChargeStatus, Seat, SeatCharge, SeatInterval, SeatStatus
from teams.services.common import (
    charge_up_to,
    charged_period,
    check_no_change_waits,
    lock_seats,
    period_for,
    record_charge,
    seat_price_cents,
    subscription_changed_since,
    subscription_end,
    subscription_locked,
    subscription_runs_at,
    unit_end,
)
from teams.services.members import subscription_bills_from_today
from teams.services.releases import apply_money, release_terms
from workspaces import errors as workspace_errors
from workspaces.models import Membership, User, Workspace
from workspaces.permissions import Capability
from workspaces.services import require_capability

# --- billing period of a paid seat ---------------------------------------------------------


@transaction.atomic
def seat_billing_period_set(
    *, workspace: Workspace, actor: Membership, membership: Membership, interval: str, now: datetime
) -> Seat:
    """Choose weekly, monthly or annual billing for a member's paid seat (seed 002: web
    subscriptions only). On the subscription's interval the seat is co-termed with it;
    on another it has a period of its own.

    A seat taken today and billed in no way yet (its adding charge still pending, the
    subscription unchanged since) is simply planned again on the new period. Any other
    (an invoiced charge, a co-termed seat the subscription's invoice billed, a seat taken
    back, priced by a plan change, or held free during a trial) keeps what it paid for: the change waits on the seat
    (``pending_interval``) until its current paid unit ends — its week, its month, or for
    an annual seat its current month — and the daily seat job applies it then
    (:func:`seat_period_changes_apply`). Changing back before then cancels it: nothing is
    credited, nothing charged. A co-termed seat leaving the subscription's interval no
    longer counts in the subscription's renewal from the request on: it keeps the period
    it was billed for as its own until the change applies.
    """
    require_capability(actor, Capability.MANAGE_MEMBERS)
    if actor.workspace_id != workspace.pk:
        raise workspace_errors.PermissionDenied()
    if interval not in SeatInterval.values:
        raise errors.UnknownSeatPeriod()
    lock_seats(workspace.pk)
    subscription = subscription_locked(workspace)
    check_no_change_waits(subscription)
    if subscription.channel == Channel.MOBILE:
        raise errors.SeatPeriodMobile()
    if subscription.in_trial(now):
        # A trial holds its seats free until it ends, on the subscription's interval
        # (docs/rules/proration.md#changing-a-seats-period).
        raise errors.SeatPeriodDuringTrial()
    seat = (
        Seat.objects.select_for_update()
        .filter(workspace=workspace, membership_id=membership.pk, status=SeatStatus.ACTIVE)
        .first()
    )
    if seat is None:
        raise errors.NoPaidSeat()
    if seat.pending_at is not None and seat.pending_at <= now:
        # A change whose unit ended already, not applied yet by the daily job: it comes first.
        seat = _apply(seat, subscription, workspace=workspace, now=now)
    before = _period_state(seat, workspace.billing_zone)
    seat = _change(seat, subscription, interval, workspace=workspace, now=now)
    _audit(seat, before, workspace=workspace, actor=actor.user, now=now)
    return seat


def _change(
    seat: Seat, subscription: Subscription, interval: str, *, workspace: Workspace, now: datetime
) -> Seat:
    """The request itself, on the locked seat with no change overdue."""
    if seat.interval == interval and not seat.pending_interval:
        return seat
    price_cents = seat_price_cents(subscription, interval)
    zone = workspace.billing_zone
    today = day_of(now, zone)
    if seat.pending_interval or not _taken_today_and_untouched(seat, subscription, today, zone):
        return _schedule(seat, subscription, interval, today, zone)
    SeatCharge.objects.filter(seat=seat, status=ChargeStatus.PENDING).update(
        status=ChargeStatus.CANCELED, canceled_at=now
    )
    # Taken today: planned again from today.
    period = period_for(subscription, interval, today, zone)
    seat.interval = interval
    seat.coterm = period.coterm
    seat.anchor_date = period.anchor
    seat.period_start = midnight(period.start, zone)
    seat.period_end = midnight(period.end, zone)
    seat.price_cents = price_cents
    seat.save()
    if period.coterm and not subscription_bills_from_today(subscription, today, zone):
        return seat  # the subscription's next invoice bills it with the plan
    record_charge(
        seat=seat,
        kind=ChargeKind.ADDED,
        plan_name=subscription.plan.name,
        proration=charge_proration(price_cents, period.start, period.end, today, Interval(interval)),
        day=today,
        start=today,
        end=period.end,
        now=now,
        zone=zone,
    )
    return seat


def _period_state(seat: Seat, zone: tzinfo) -> dict[str, Any]:
    """What the audit trail says of a seat's period: the interval it is billed on, the
    one it moves to and the day it does (in the billing time zone)."""
    return {
        "billing_period": seat.interval,
        "next_billing_period": seat.pending_interval,
        "next_billing_period_from": day_of(seat.pending_at, zone).isoformat() if seat.pending_at else None,
    }


def _audit(
    seat: Seat, before: dict[str, Any], *, workspace: Workspace, actor: User | None, now: datetime
) -> None:
    """The entry of a change of the seat's period (none if nothing changed); ``actor``
    ``None`` is the daily seat job."""
    audit_record_changes(
        kind=AuditKind.SEAT_BILLING_PERIOD_CHANGED, workspace=workspace, actor=actor,
        object_type="seat", object_id=seat.pk, object_repr=seat.user_email,
        before=before, after=_period_state(seat, workspace.billing_zone), now=now,
    )  # fmt: skip


def _taken_today_and_untouched(seat: Seat, subscription: Subscription, today: date, zone: tzinfo) -> bool:
    """Whether nothing was billed for the seat in any way yet: taken today, its only
    charge the adding one, still pending, and the subscription unchanged since (a plan
    change, a switch or a customization prices the seat as billed). Such a seat is simply
    planned again on its new period; any other keeps what it paid for."""
    if day_of(seat.added_at, zone) != today or subscription_changed_since(subscription, seat.added_at):
        return False
    charges = list(SeatCharge.objects.filter(seat=seat).values_list("kind", "status"))
    return charges == [(ChargeKind.ADDED, ChargeStatus.PENDING)]


def _rejoin(seat: Seat, subscription: Subscription, zone: tzinfo) -> None:
    """A seat back on the subscription's interval with no change pending is co-termed
    again, on the subscription's period (its renewal bills it)."""
    seat.coterm = seat.interval == subscription.price.interval
    if seat.coterm:
        start, end = charged_period(seat, subscription, zone)
        seat.period_start, seat.period_end = midnight(start, zone), midnight(end, zone)


def _schedule(seat: Seat, subscription: Subscription, interval: str, today: date, zone: tzinfo) -> Seat:
    """Record the change on the seat, effective at the end of its current paid unit."""
    if interval == seat.interval:
        # Changed back before the unit ended: nothing happened, nothing is due.
        seat.pending_interval, seat.pending_at = "", None
        _rejoin(seat, subscription, zone)
        seat.save()
        return seat
    start, end = charged_period(seat, subscription, zone)
    if seat.coterm:
        # The subscription's renewal no longer bills it: it keeps the period it was billed
        # for, as its own, until the change applies.
        seat.coterm = False
        seat.period_start, seat.period_end = midnight(start, zone), midnight(end, zone)
    seat.pending_interval = interval
    seat.pending_at = midnight(unit_end(seat, start, end, today), zone)
    seat.save()
    return seat


def _apply(seat: Seat, subscription: Subscription, *, workspace: Workspace, now: datetime) -> Seat:
    """Apply the seat's pending period change, due at ``seat.pending_at`` (the caller holds
    the seat lock and the seat row), and record it as the system's."""
    before = _period_state(seat, workspace.billing_zone)
    seat = _apply_change(seat, subscription, workspace=workspace, now=now)
    _audit(seat, before, workspace=workspace, actor=None, now=now)
    return seat


def _apply_change(seat: Seat, subscription: Subscription, *, workspace: Workspace, now: datetime) -> Seat:
    """The change :func:`_apply` makes.

    An annual seat gets the months after its current one credited, as the removal rule
    counts them on the last day of that month (the month of the request); a weekly or
    monthly seat has nothing left to credit. The seat then starts on its new interval
    at that instant, charged by the adding rule (a co-termed one by the subscription's
    invoice when the subscription's period is over but not renewed yet), never past the
    end of a cancelled subscription."""
    assert seat.pending_at is not None
    zone = workspace.billing_zone
    effective = day_of(seat.pending_at, zone)
    interval = seat.pending_interval
    if not subscription_runs_at(subscription, seat.pending_at):
        # The subscription ended: its seats end with it (billing's expiry, the daily job).
        seat.pending_interval, seat.pending_at = "", None
        seat.save()
        return seat
    try:
        price_cents = seat_price_cents(subscription, interval)
    except errors.SeatPeriodUnavailable:
        # The plan no longer sells it: the seat stays on its interval.
        seat.pending_interval, seat.pending_at = "", None
        _rejoin(seat, subscription, zone)
        seat.save()
        return seat
    start, end = day_of(seat.period_start, zone), day_of(seat.period_end, zone)
    if seat.interval == Interval.YEAR and start < effective < end:
        # apply_money saves and returns the seat row afresh.
        release = release_terms(seat, subscription, effective - timedelta(days=1), own_seat=True, zone=zone)
        seat = apply_money(release, workspace=workspace, source_prefix="seat-period", now=now)
        seat.last_credit_cents = 0
    period = period_for(subscription, interval, effective, zone)
    seat.interval = interval
    seat.coterm = period.coterm
    seat.anchor_date = period.anchor
    seat.period_start = midnight(period.start, zone)
    seat.period_end = midnight(period.end, zone)
    seat.price_cents = price_cents
    seat.pending_interval, seat.pending_at, seat.paid_until = "", None, None
    if period.coterm and not subscription_bills_from_today(subscription, effective, zone):
        seat.save()
        return seat  # the subscription's next invoice bills it with the plan
    proration = charge_proration(price_cents, period.start, period.end, effective, Interval(interval))
    charge_end = period.end
    ends = subscription_end(subscription, zone)
    if ends is not None and effective < ends < period.end:
        # No seat is paid past its subscription's end (docs/rules/lifecycle.md).
        proration = charge_up_to(price_cents, period.start, period.end, ends, interval)
        charge_end = ends
        seat.paid_until = midnight(ends, zone)
    seat.save()
    record_charge(
        seat=seat,
        kind=ChargeKind.PERIOD_CHANGE,
        plan_name=subscription.plan.name,
        proration=proration,
        day=day_of(now, zone),
        start=effective,
        end=charge_end,
        now=now,
        zone=zone,
    )
    return seat


@transaction.atomic
def seat_period_changes_apply(*, workspace_id: Any, now: datetime) -> int:
    """The daily seat job: apply the workspace's period changes whose unit has ended
    (idempotent: an applied change is no longer pending). Returns how many were applied."""
    lock_seats(workspace_id)
    workspace = Workspace.objects.get(pk=workspace_id)
    subscription = subscription_locked(workspace)
    due = Seat.objects.select_for_update().filter(
        workspace=workspace, status=SeatStatus.ACTIVE, pending_at__lte=now
    )
    applied = 0
    for seat in due.order_by("pending_at", "id"):
        _apply(seat, subscription, workspace=workspace, now=now)
        applied += 1
    return applied
