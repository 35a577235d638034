"""The billing period of a paid seat (weekly, monthly or annual; seed 002)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from domain.calendar import day_of, midnight
from domain.periods import Interval
from domain.proration import charge_proration
from subscriptions.models import Channel
from teams import errors
from teams.models import ChargeKind, ChargeStatus, Seat, SeatCharge, SeatInterval, SeatStatus
from teams.services.common import (
    lock_seats,
    period_for,
    record_charge,
    seat_price_cents,
    subscription_locked,
)
from teams.services.members import subscription_bills_from_today
from teams.services.releases import apply_money, release_terms
from workspaces import errors as workspace_errors
from workspaces.models import Membership, Workspace
from workspaces.permissions import Capability
from workspaces.services import require_capability

# --- billing period of a paid seat ---------------------------------------------------------


@transaction.atomic
def seat_billing_period_set(
    *, workspace: Workspace, actor: Membership, membership: Membership, interval: str, now: datetime
) -> Seat:
    """Choose weekly, monthly or annual billing for a member's paid seat (seed 002: web
    subscriptions only). On the subscription's interval the seat is co-termed with it;
    on another it renews on its own anniversary, from today.

    A seat not invoiced yet is simply planned again on the new period (nothing was
    billed); a billed one gets its unused time credited, as on removal, and a new
    prorated charge for the new period, invoiced the day after. A co-termed seat without
    a pending charge of its own was billed by the subscription's invoice (its purchase,
    plan change or renewal): it counts as billed.
    """
    require_capability(actor, Capability.MANAGE_MEMBERS)
    if actor.workspace_id != workspace.pk:
        raise workspace_errors.PermissionDenied()
    if interval not in SeatInterval.values:
        raise errors.UnknownSeatPeriod()
    lock_seats(workspace.pk)
    subscription = subscription_locked(workspace)
    if subscription.channel == Channel.MOBILE:
        raise errors.SeatPeriodMobile()
    seat = (
        Seat.objects.select_for_update()
        .filter(workspace=workspace, membership_id=membership.pk, status=SeatStatus.ACTIVE)
        .first()
    )
    if seat is None:
        raise errors.NoPaidSeat()
    if seat.interval == interval:
        return seat
    price_cents = seat_price_cents(subscription, interval)
    today = day_of(now)
    invoiced = SeatCharge.objects.filter(seat=seat, status=ChargeStatus.INVOICED).exists()
    pending = SeatCharge.objects.filter(seat=seat, status=ChargeStatus.PENDING).exists()
    billed_by_subscription = (
        seat.coterm and not pending and subscription_bills_from_today(subscription, today)
    )
    if invoiced or billed_by_subscription:
        release = release_terms(seat, subscription, today, own_seat=True)
        seat = apply_money(release, workspace=workspace, source_prefix="seat-period", now=now)
        seat.last_credit_cents = 0
        charge_from = today
        kind = ChargeKind.PERIOD_CHANGE
    else:
        SeatCharge.objects.filter(seat=seat, status=ChargeStatus.PENDING).update(
            status=ChargeStatus.CANCELED, canceled_at=now
        )
        charge_from = min(day_of(seat.added_at), today)
        kind = ChargeKind.ADDED
    period = period_for(subscription, interval, charge_from)
    seat.interval = interval
    seat.coterm = period.coterm
    seat.anchor_date = period.anchor
    seat.period_start = midnight(period.start)
    seat.period_end = midnight(period.end)
    seat.price_cents = price_cents
    seat.save()
    if period.coterm and not subscription_bills_from_today(subscription, today):
        return seat  # the subscription's next invoice bills it with the plan
    record_charge(
        seat=seat,
        kind=kind,
        plan_name=subscription.plan.name,
        proration=charge_proration(price_cents, period.start, period.end, charge_from, Interval(interval)),
        day=today,
        start=charge_from,
        end=period.end,
        now=now,
    )
    return seat
