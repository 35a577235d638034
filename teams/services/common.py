"""Seat building blocks: the seat lock, days, prices, periods, formulas, the caps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from django.conf import settings
from django.db import connection

from domain.calendar import day_of, midnight
from domain.money import round_half_up
from domain.periods import Interval, add_interval, months_between, period_containing
from domain.proration import Proration, removal_credit_proration
from invoices.line_words import line_words
from invoices.totals import DraftLine
from subscriptions import errors as billing_errors
from subscriptions.models import (
    Channel,
    EventKind,
    PendingChange,
    PendingChangeState,
    Price,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
)
from subscriptions.selectors import subscription_of
from teams import errors, selectors
from teams.models import ChargeKind, ChargeStatus, Seat, SeatCharge, SeatInterval
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
    or a plan change is rewriting, and the renewal sweep skips the row meanwhile.

    ``workspace`` takes the billing time zone in force as read under the seat lock: a
    zone change the billing sweep applied meanwhile (it takes the seat lock too) is seen,
    so the days are read in the zone the stored periods were moved to."""
    subscription = (
        Subscription.objects.select_for_update(no_key=True, of=("self",))
        .select_related("plan", "price", "workspace")
        .filter(workspace=workspace)
        .first()
    )
    if subscription is None:
        return subscription_of(workspace)
    workspace.billing_time_zone = subscription.workspace.billing_time_zone
    subscription.workspace = workspace
    return subscription


def check_no_change_waits(subscription: Subscription) -> None:
    """While a change the customer confirmed waits for its payment's authentication, the
    seats it was priced with do not move: no licence released, no seat's period changed
    (docs/rules/lifecycle.md#pay-then-apply)."""
    waiting = PendingChange.objects.filter(subscription_id=subscription.pk, state=PendingChangeState.WAITING)
    if subscription.pk is not None and waiting.exists():
        raise billing_errors.PaymentAwaitingAuthentication()


def subscription_runs_at(subscription: Subscription, at: datetime) -> bool:
    """Whether the subscription still bills paid seats at ``at``: a paid plan, not expired,
    renewing, or cancelled but not ended yet (it ends at ``current_period_end``)."""
    if subscription.pk is None or subscription.plan.seats_are_free:
        return False
    if subscription.status == SubscriptionStatus.EXPIRED:
        return False
    return bool(subscription.auto_renew) or at < subscription.current_period_end


#: What the subscription's events may change in the terms a seat was priced on: its plan,
#: its interval, its period, what its invoices counted as paid.
_TERMS_CHANGED_BY = (
    EventKind.SUBSCRIBED,
    EventKind.TRIAL_STARTED,
    EventKind.PLAN_CHANGED,
    EventKind.SWITCHED_TO_ANNUAL,
    EventKind.CUSTOMIZED,
    EventKind.CANCELED,
    EventKind.REACTIVATED,
    EventKind.RENEWED,
    EventKind.TRIAL_ENDED,
    EventKind.EXPIRED,
)


def subscription_changed_since(subscription: Subscription, moment: datetime) -> bool:
    """Whether the subscription changed its terms (plan, interval, period, seats billed)
    at or after ``moment``: a seat priced before then may no longer be on its terms."""
    return SubscriptionEvent.objects.filter(
        subscription=subscription, kind__in=_TERMS_CHANGED_BY, created_at__gte=moment
    ).exists()


def held_free_in_trial(seat: Seat, subscription: Subscription, now: datetime) -> bool:
    """A seat the trial holds for free (docs/rules/lifecycle.md#trial): the trial runs and
    nothing was charged for the seat (a co-termed seat, invoiced with the plan when the
    trial ends)."""
    if not subscription.in_trial(now):
        return False
    return not SeatCharge.objects.filter(seat=seat).exclude(status=ChargeStatus.CANCELED).exists()


def subscription_end(subscription: Subscription, zone: tzinfo) -> date | None:
    """The day a cancelled subscription ends (auto-renew off), None while it renews."""
    if subscription.auto_renew:
        return None
    return day_of(subscription.current_period_end, zone)


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


def subscription_period(subscription: Subscription, today: date, zone: tzinfo) -> tuple[date, date]:
    """The subscription's billing period containing ``today`` (days read in ``zone``)."""
    start, end = (
        day_of(subscription.current_period_start, zone),
        day_of(subscription.current_period_end, zone),
    )
    if start <= today < end:
        return start, end
    return period_containing(start, Interval(subscription.price.interval), max(today, start))


def period_for(subscription: Subscription, interval: str, today: date, zone: tzinfo) -> SeatPeriod:
    """A seat taken on ``today``: co-termed with the subscription on its interval, else a
    period of its own starting today (renewed on that anniversary)."""
    if interval == subscription.price.interval:
        start, end = subscription_period(subscription, today, zone)
        return SeatPeriod(coterm=True, anchor=start, start=start, end=end)
    end = add_interval(today, Interval(interval), anchor_day=today.day)
    return SeatPeriod(coterm=False, anchor=today, start=today, end=end)


def charged_period(seat: Seat, subscription: Subscription, zone: tzinfo) -> tuple[date, date]:
    """The period the seat has been billed for: a co-termed seat follows the subscription
    (its renewal billed it), another seat its own stored period."""
    if seat.coterm and seat.interval == subscription.price.interval and subscription.pk is not None:
        return day_of(subscription.current_period_start, zone), day_of(subscription.current_period_end, zone)
    return day_of(seat.period_start, zone), day_of(seat.period_end, zone)


def paid_end(seat: Seat, end: date, zone: tzinfo) -> date:
    """Where the paid part of the seat's period ``[…, end)`` stops: ``end``, or earlier when
    a renewal was charged only up to its subscription's end (``Seat.paid_until``)."""
    if seat.paid_until is None:
        return end
    return min(end, day_of(seat.paid_until, zone))


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


def removal_credit(seat: Seat, start: date, end: date, at: date, zone: tzinfo) -> Proration | None:
    """The removal rule's credit on ``at`` for the seat's period ``[start, end)``
    (docs/rules/proration.md#removing-a-seat), counting only the time paid: of a period
    paid up to ``Seat.paid_until``, the units between ``at`` and that day. None when
    ``at`` is outside the paid part of the period."""
    until = paid_end(seat, end, zone)
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


def _operator_words(line: DraftLine, currency: str) -> str:
    """A line's words in the default language, kept on a seat charge for operators, e.g.
    "Siège Pro — a@b.c, 1 × 89,99 € × 10/12 mois = 74,99 €"."""
    words = line_words(line, currency=currency, language=settings.LANGUAGE_CODE)
    return f"{words.description}, {words.formula}"


def seat_line_description(
    *, plan_name: str, email: str, proration: Proration, price_cents: int, currency: str
) -> str:
    """A seat's prorated price in the default language (docs/rules/invoices.md#line-words),
    e.g. "Siège Pro — a@b.c, 1 × 89,99 € × 10/12 mois = 74,99 €"."""
    line = DraftLine(
        kind="seat_proration",
        subject=plan_name,
        seat_email=email,
        quantity=1,
        unit_amount_cents=price_cents,
        fraction_numerator=proration.remaining_units,
        fraction_denominator=proration.total_units,
        fraction_unit=proration.unit,
        amount_cents=proration.amount_cents,
    )
    return _operator_words(line, currency)


def charge_lines(charge: SeatCharge) -> list[DraftLine]:
    """The invoice lines of a seat charge (docs/rules/invoices.md#line-words): 1 × the
    seat's price × the fraction of its period charged = the charge (for a seat added
    again the same day, 1 × the removal credit taken back); then, when a removal netted
    part of it before it was invoiced, the unused time given back, −1 × what was netted.

    A charge recorded before charges kept their numbers (no ``price_cents``) makes one
    line with its stored words and the amount left to pay.
    """
    common: dict[str, Any] = {
        "period_start": charge.period_start,
        "period_end": charge.period_end,
        "metadata": {"seat": charge.seat_id, "seat_charge": charge.pk, "kind": charge.kind},
    }
    kind = "seats" if charge.kind == ChargeKind.RENEWAL else "seat_proration"
    amount, charged = int(charge.amount_cents), int(charge.original_amount_cents)
    if charge.price_cents is None:
        return [
            DraftLine(
                kind=kind,
                description=charge.description,
                amount_cents=amount,
                quantity=1,
                unit_amount_cents=amount,
                **common,
            )
        ]
    common |= {"subject": charge.plan_name, "seat_email": charge.seat.user_email}
    whole = not charge.total_units or charge.remaining_units == charge.total_units
    lines = [
        DraftLine(
            kind=kind,
            amount_cents=charged,
            quantity=1,
            unit_amount_cents=int(charge.price_cents),
            fraction_numerator=None if whole else charge.remaining_units,
            fraction_denominator=None if whole else charge.total_units,
            fraction_unit="" if whole else charge.unit,
            **common,
        )
    ]
    if amount < charged:
        netted = charged - amount
        lines.append(
            DraftLine(kind="credit", amount_cents=-netted, quantity=-1, unit_amount_cents=netted, **common)
        )
    return lines


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
    zone: tzinfo,
) -> SeatCharge | None:
    if proration.amount_cents == 0:
        return None
    charge = SeatCharge(
        workspace_id=seat.workspace_id,
        seat=seat,
        kind=kind,
        day=day,
        amount_cents=proration.amount_cents,
        original_amount_cents=proration.amount_cents,
        currency=seat.currency,
        remaining_units=proration.remaining_units,
        total_units=proration.total_units,
        unit=proration.unit,
        plan_name=plan_name,
        price_cents=seat.price_cents,
        period_start=midnight(start, zone),
        period_end=midnight(end, zone),
        created_at=now,
    )
    return save_charge(charge)


def save_charge(charge: SeatCharge) -> SeatCharge:
    """Store a new seat charge with its words for operators."""
    charge.description = _operator_words(charge_lines(charge)[0], charge.currency)[:300]
    charge.save(force_insert=True)
    return charge


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
