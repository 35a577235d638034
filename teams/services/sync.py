"""Matching the paid seats to the subscription after billing changed it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from subscriptions.selectors import subscription_of
from teams import errors, selectors
from teams.models import ChargeStatus, Seat, SeatCharge, SeatStatus
from teams.services.common import day_of, lock_seats, midnight, period_for, seat_price_cents
from workspaces.models import Membership, Role, Workspace

# --- after billing changed the subscription -------------------------------------------------


@transaction.atomic
def seats_sync(*, workspace: Workspace, now: datetime) -> int:
    """Match the paid seats to the subscription after billing changed it (a purchase, a
    plan change, extra seats bought, an expiry): ``max(0, licensed - included - extra)``
    active paid seats, priced at the plan's seat price.

    The subscription's own invoice billed or credited these seats with the plan, so
    nothing is charged or credited here: missing seats are added co-termed (for the
    most recent licensed members without one), surplus seats end (co-termed first, then
    the newest), seats on an interval the new plan does not sell move to the
    subscription's, and co-termed seats follow the subscription's interval (a switch to
    annual billing). Returns how many seats were added, ended or repriced.
    """
    lock_seats(workspace.pk)
    subscription = subscription_of(workspace)
    plan = subscription.plan
    active = list(Seat.objects.select_for_update().filter(workspace=workspace, status=SeatStatus.ACTIVE))
    if plan.seats_are_free or subscription.pk is None:
        wanted = 0
    else:
        licensed = selectors.licensed_count(workspace)
        wanted = max(0, licensed - plan.included_seats - subscription.extra_seats)
    changed = 0
    # Co-termed seats end first (billing credited them with the plan), newest first.
    surplus = sorted(active, key=lambda s: (s.coterm, s.added_at, s.pk), reverse=True)
    while len(active) > wanted:
        seat = surplus.pop(0)
        active.remove(seat)
        SeatCharge.objects.filter(seat=seat, status=ChargeStatus.PENDING).update(
            status=ChargeStatus.CANCELED, canceled_at=now
        )
        seat.status, seat.removed_at, seat.membership = SeatStatus.REMOVED, now, None
        seat.save()
        changed += 1
    today = day_of(now)
    for seat in active:
        # A co-termed seat stays co-termed: it follows a switch to annual billing.
        interval = subscription.price.interval if seat.coterm else seat.interval
        try:
            price = seat_price_cents(subscription, interval)
        except errors.SeatPeriodUnavailable:
            interval = subscription.price.interval
            price = seat_price_cents(subscription, interval)
        coterm = interval == subscription.price.interval
        if (interval, price, coterm) != (seat.interval, seat.price_cents, seat.coterm):
            seat.interval, seat.price_cents = interval, price
            if coterm:
                period = period_for(subscription, interval, today)
                seat.coterm, seat.anchor_date = True, period.anchor
                seat.period_start, seat.period_end = midnight(period.start), midnight(period.end)
            seat.save()
            changed += 1
    if len(active) < wanted:
        seated = {seat.membership_id for seat in active}
        unseated = Membership.objects.filter(workspace=workspace, role__in=selectors.LICENSED_ROLES)
        if plan.included_seats:
            # Seed 002: the admin's own seat is one of the included ones.
            unseated = unseated.exclude(role=Role.OWNER)
        unseated = unseated.exclude(pk__in=seated).select_related("user").order_by("-created_at", "-id")
        interval = subscription.price.interval
        period = period_for(subscription, interval, today)
        for membership in unseated[: wanted - len(active)]:
            Seat.objects.create(
                workspace=workspace,
                membership=membership,
                user=membership.user,
                user_email=membership.user.email,
                interval=interval,
                coterm=True,
                anchor_date=period.anchor,
                period_start=midnight(period.start),
                period_end=midnight(period.end),
                price_cents=seat_price_cents(subscription, interval),
                currency=subscription.price.currency,
                added_at=now,
            )
            changed += 1
    return changed
