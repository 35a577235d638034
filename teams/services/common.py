"""Seat building blocks: the seat lock, days, prices, periods, formulas, the caps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext

from domain.calendar import day_of, midnight
from domain.money import round_half_up
from domain.periods import Interval, add_interval, months_between, period_containing
from domain.proration import Proration, removal_credit_proration
from subscriptions.models import Channel, Price, Subscription, SubscriptionStatus
from subscriptions.selectors import subscription_of
from teams import errors, selectors
from teams.models import Seat, SeatCharge, SeatInterval
from workspaces.formatting import format_money
from workspaces.models import Workspace
from workspaces.permissions import holds_licence

#: First key of the advisory locks that serialize a workspace's seat changes.
_SEAT_LOCK = 7_320_001


def lock_seats(workspace_id: object) -> None:
    """Serialize seat changes of one workspace until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_SEAT_LOCK, str(workspace_id)])


def subscription_locked(workspace: Workspace) -> Subscription:
    """The workspace's subscription, its row locked (``FOR NO KEY UPDATE``) until the
    transaction ends. Taken after the seat lock, as billing's changes take them (seat
    lock, then the subscription row): a seat change never sees a period that a renewal
    or a plan change is rewriting, and the renewal sweep skips the row meanwhile."""
    subscription = (
        Subscription.objects.select_for_update(no_key=True, of=("self",))
        .select_related("plan", "price")
        .filter(workspace=workspace)
        .first()
    )
    return subscription if subscription is not None else subscription_of(workspace)


def subscription_runs_at(subscription: Subscription, at: datetime) -> bool:
    """Whether the subscription still bills paid seats at ``at``: a paid plan, not expired,
    renewing, or cancelled but not ended yet (it ends at ``current_period_end``)."""
    if subscription.pk is None or subscription.plan.seats_are_free:
        return False
    if subscription.status == SubscriptionStatus.EXPIRED:
        return False
    return bool(subscription.auto_renew) or at < subscription.current_period_end


def subscription_end(subscription: Subscription) -> date | None:
    """The day a cancelled subscription ends (auto-renew off), None while it renews."""
    if subscription.auto_renew:
        return None
    return day_of(subscription.current_period_end)


# --- prices, periods, formulas -------------------------------------------------------


def seat_price_cents(subscription: Subscription, interval: str) -> int:
    """The plan's seat price for ``interval``; refused when the plan has no such price."""
    if interval == subscription.price.interval:
        return int(subscription.price.seat_amount)
    price = Price.objects.filter(
        plan=subscription.plan, interval=interval, currency=subscription.price.currency, is_active=True
    ).first()
    if price is None:
        raise errors.SeatPeriodUnavailable(
            plan=subscription.plan.name, interval=str(SeatInterval(interval).label).lower()
        )
    return int(price.seat_amount)


@dataclass(frozen=True)
class SeatPeriod:
    coterm: bool
    anchor: date
    start: date
    end: date


def subscription_period(subscription: Subscription, today: date) -> tuple[date, date]:
    """The subscription's billing period containing ``today``."""
    start, end = day_of(subscription.current_period_start), day_of(subscription.current_period_end)
    if start <= today < end:
        return start, end
    return period_containing(start, Interval(subscription.price.interval), max(today, start))


def period_for(subscription: Subscription, interval: str, today: date) -> SeatPeriod:
    """A seat taken on ``today``: co-termed with the subscription on its interval, else a
    period of its own starting today (renewed on that anniversary)."""
    if interval == subscription.price.interval:
        start, end = subscription_period(subscription, today)
        return SeatPeriod(coterm=True, anchor=start, start=start, end=end)
    end = add_interval(today, Interval(interval), anchor_day=today.day)
    return SeatPeriod(coterm=False, anchor=today, start=today, end=end)


def charged_period(seat: Seat, subscription: Subscription) -> tuple[date, date]:
    """The period the seat has been billed for: a co-termed seat follows the subscription
    (its renewal billed it), another seat its own stored period."""
    if seat.coterm and seat.interval == subscription.price.interval and subscription.pk is not None:
        return day_of(subscription.current_period_start), day_of(subscription.current_period_end)
    return day_of(seat.period_start), day_of(seat.period_end)


def paid_end(seat: Seat, end: date) -> date:
    """Where the paid part of the seat's period ``[…, end)`` stops: ``end``, or earlier when
    a renewal was charged only up to its subscription's end (``Seat.paid_until``)."""
    if seat.paid_until is None:
        return end
    return min(end, day_of(seat.paid_until))


def _prorated(price_cents: int, units: int, like: Proration) -> Proration:
    return Proration(
        remaining_units=units,
        total_units=like.total_units,
        unit=like.unit,
        amount_cents=round_half_up(price_cents * units, like.total_units),
    )


def charge_up_to(price_cents: int, start: date, end: date, until: date, interval: str) -> Proration:
    """The charge for the period ``[start, end)`` held only up to ``until`` (its
    subscription ends then; docs/rules/lifecycle.md#end-of-a-subscription-ends-its-seats):
    the whole price less what the removal rule would credit on ``until``, so that what
    is charged and what a removal credits always add up to the units of the period.
    Days: ``until - start`` days of the period's; annual: the months up to the one
    ``until`` falls in, that one included."""
    beyond = removal_credit_proration(price_cents, start, end, until, Interval(interval))
    return _prorated(price_cents, beyond.total_units - beyond.remaining_units, beyond)


def removal_credit(seat: Seat, start: date, end: date, at: date) -> Proration | None:
    """The removal rule's credit on ``at`` for the seat's period ``[start, end)``
    (docs/rules/proration.md#removing-a-seat), counting only the time paid: of a period
    paid up to ``Seat.paid_until``, the units between ``at`` and that day. None when
    ``at`` is outside the paid part of the period."""
    until = paid_end(seat, end)
    if not start <= at < until:
        return None
    credit = removal_credit_proration(seat.price_cents, start, end, at, Interval(seat.interval))
    if until == end:
        return credit
    unpaid = removal_credit_proration(seat.price_cents, start, end, until, Interval(seat.interval))
    return _prorated(seat.price_cents, credit.remaining_units - unpaid.remaining_units, credit)


def unit_end(seat: Seat, start: date, end: date, today: date) -> date:
    """The end of the seat's current paid unit on ``today``: the end of its week or month;
    for an annual seat, the end of its current month (months counted from ``start``, as
    the removal rule counts them)."""
    if seat.interval != Interval.YEAR or not start <= today < end:
        return end
    months = months_between(start, today)
    return min(end, add_interval(start, Interval.MONTH, anchor_day=start.day, count=months + 1))


def money(amount_cents: int, currency: str) -> str:
    # Stored on invoice lines: formatted in the invoice language.
    return format_money(amount_cents, currency, settings.LANGUAGE_CODE)


def seat_line_description(
    *, plan_name: str, email: str, proration: Proration, price_cents: int, currency: str
) -> str:
    """The invoice line's formula, e.g. "Siège Pro — a@b.c, 10 of 12 months × 89,99 €"."""
    with translation.override(settings.LANGUAGE_CODE):
        label = gettext("Seat %(plan)s") % {"plan": plan_name}
    return f"{label} — {email}, {proration.describe()} × {money(price_cents, currency)}"


def record_charge(
    *,
    seat: Seat,
    kind: str,
    plan_name: str,
    proration: Proration,
    day: date,
    start: date,
    end: date,
    now: datetime,
) -> SeatCharge | None:
    if proration.amount_cents == 0:
        return None
    return SeatCharge.objects.create(
        workspace_id=seat.workspace_id,
        seat=seat,
        kind=kind,
        day=day,
        amount_cents=proration.amount_cents,
        original_amount_cents=proration.amount_cents,
        currency=seat.currency,
        description=seat_line_description(
            plan_name=plan_name,
            email=seat.user_email,
            proration=proration,
            price_cents=seat.price_cents,
            currency=seat.currency,
        ),
        remaining_units=proration.remaining_units,
        total_units=proration.total_units,
        unit=proration.unit,
        period_start=midnight(start),
        period_end=midnight(end),
        created_at=now,
    )


# --- limits ---------------------------------------------------------------------------


def check_room(subscription: Subscription, *, licensed_after: int) -> None:
    if subscription.channel == Channel.MOBILE and licensed_after > selectors.MOBILE_MAX_MEMBERS:
        raise errors.MobileMemberLimit(max_members=selectors.MOBILE_MAX_MEMBERS)
    if licensed_after > subscription.plan.max_members:
        raise errors.MemberLimitReached(max_members=subscription.plan.max_members)


def seat_check_invitation(*, workspace: Workspace, role: str, now: datetime) -> None:
    """Refuse an invitation that would take a seat beyond the caps
    (docs/rules/plans.md#member-caps: ``max_members``, 3 on mobile). Pending invitations
    count: each may become a member."""
    if not holds_licence(role):
        return
    lock_seats(workspace.pk)
    pending = selectors.pending_licensed_invitations(workspace, now=now)
    check_room(subscription_of(workspace), licensed_after=selectors.licensed_count(workspace) + pending + 1)
