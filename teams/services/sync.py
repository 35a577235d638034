"""Matching the paid seats to the subscription after billing changed it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from domain.calendar import day_of, midnight
from domain.seat_plan import SeatState, plan_seats, wanted_paid_seats
from subscriptions.selectors import seat_prices
from teams import selectors
from teams.models import Seat, SeatStatus
from teams.services.common import lock_seats, period_for, subscription_locked
from teams.services.releases import seat_end_with_subscription
from workspaces.models import Membership, Role, Workspace
from workspaces.permissions import LICENSED_ROLES

# --- after billing changed the subscription -------------------------------------------------


def seat_state(seat: Seat) -> SeatState:
    return SeatState(
        id=seat.pk,
        email=seat.user_email,
        interval=seat.interval,
        coterm=seat.coterm,
        price_cents=int(seat.price_cents),
        period_start=seat.period_start,
        period_end=seat.period_end,
        added_at=seat.added_at,
    )


def _terms(seat: Seat) -> tuple[object, ...]:
    return (seat.interval, seat.price_cents, seat.coterm, seat.period_start, seat.period_end, seat.pending_at)


@transaction.atomic
def seats_sync(*, workspace: Workspace, now: datetime) -> int:
    """Match the paid seats to the subscription after billing changed it (a purchase, a
    plan change, a switch to annual, extra seats bought, a trial's end, an expiry):
    ``max(0, licensed - included - extra)`` active paid seats, as
    :func:`domain.seat_plan.plan_seats` plans them.

    Billing calls it inside the transaction of the change, after it priced the change
    from the same plan: its invoice bills the co-termed seats (and credits the unused own
    time of seats that stop renewing on their own), so nothing is charged or credited
    here. Missing seats are added co-termed (for the most recent licensed members without
    one); surplus seats end (co-termed first, then the newest); seats on an interval the
    plan does not sell move to the subscription's; co-termed seats follow the
    subscription's interval and period; every seat takes the plan's seat price.

    A charge not invoiced yet stays due (it pays for time the seat was held, which the
    change's invoice counted as billed), except when the workspace falls back to a plan
    whose seats are free (an expiry): then the seats end with the subscription
    (:func:`seat_end_with_subscription`: charges not invoiced cancelled, the time paid
    beyond the end credited). A seat the change co-terms drops a period change it was
    waiting for. Returns how many seats were added, ended or changed.
    """
    lock_seats(workspace.pk)
    subscription = subscription_locked(workspace)
    plan = subscription.plan
    locked = {
        seat.pk: seat
        for seat in Seat.objects.select_for_update().filter(workspace=workspace, status=SeatStatus.ACTIVE)
    }
    free = bool(plan.seats_are_free) or subscription.pk is None
    wanted = wanted_paid_seats(
        seats_are_free=free,
        licensed=selectors.licensed_count(workspace),
        included=int(plan.included_seats),
        extra_seats=int(subscription.extra_seats),
    )
    interval = subscription.price.interval
    states = sorted((seat_state(seat) for seat in locked.values()), key=lambda s: (s.added_at, s.id))
    planned = plan_seats(
        states, wanted=wanted, interval=interval, seat_prices=seat_prices(subscription.price)
    )
    changed = 0
    for state in planned.ended:
        seat = locked[state.id]
        if free:
            seat_end_with_subscription(seat, subscription, workspace=workspace, now=now)
        else:
            seat.status, seat.removed_at, seat.membership = SeatStatus.REMOVED, now, None
            seat.save()
        changed += 1
    zone = workspace.billing_zone
    today = day_of(now, zone)
    period = period_for(subscription, interval, today, zone)
    coterm_period = (midnight(period.start, zone), midnight(period.end, zone))
    for terms in planned.kept:
        seat = locked[terms.seat.id]
        before = _terms(seat)
        seat.interval, seat.price_cents, seat.coterm = terms.interval, terms.price_cents, terms.coterm
        if terms.coterm:
            seat.anchor_date = period.anchor
            seat.period_start, seat.period_end = coterm_period
            # The subscription's invoice bills it from now on, on its interval: a period
            # change that was waiting for the seat's unit to end no longer applies.
            seat.pending_interval, seat.pending_at, seat.paid_until = "", None, None
        if _terms(seat) != before:
            seat.save()
            changed += 1
    if planned.added:
        seated = {seat.membership_id for seat in locked.values() if seat.status == SeatStatus.ACTIVE}
        unseated = Membership.objects.filter(workspace=workspace, role__in=LICENSED_ROLES)
        if plan.included_seats:
            # Seed 002: the admin's own seat is one of the included ones.
            unseated = unseated.exclude(role=Role.OWNER)
        unseated = unseated.exclude(pk__in=seated).select_related("user").order_by("-created_at", "-id")
        for membership in unseated[: planned.added]:
            Seat.objects.create(
                workspace=workspace,
                membership=membership,
                user=membership.user,
                user_email=membership.user.email,
                interval=interval,
                coterm=True,
                anchor_date=period.anchor,
                period_start=coterm_period[0],
                period_end=coterm_period[1],
                price_cents=int(subscription.price.seat_amount),
                currency=subscription.price.currency,
                added_at=now,
            )
            changed += 1
    return changed
