"""The computations behind each billing operation (docs/rules/lifecycle.md,
docs/rules/proration.md): from the locked context to a :class:`Change` —
the invoice lines with their formula, the new subscription fields, the audit event.

Reads only (the catalog, the workspace's past trials): :mod:`billing.services.lifecycle`
runs a computation twice, for the preview and inside the transaction that applies it, and
compares the two.
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo
from typing import Any

from billing.services.core import Change, Context
from domain.calendar import day_of, midnight
from domain.checks import is_count, is_int
from domain.periods import Interval, add_interval
from domain.proration import Proration, charge_proration, removal_credit_proration
from domain.seat_plan import SeatPlan, SeatState, plan_seats, wanted_paid_seats
from invoices.models import BillingReason
from invoices.totals import DraftLine
from subscriptions import errors, pricing, selectors
from subscriptions.models import (
    EventKind,
    Price,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
)
from teams.selectors import extra_seat_cap
from workspaces.models import Workspace

#: One purchase buys at most this many credit packs ("absurd" quantities are refused).
MAX_CREDIT_PACKS = 1_000
CANCEL_COMMENT_MAX_LENGTH = 2_000


# --- Shared checks -----------------------------------------------------------------------


def require_paid(subscription: Subscription) -> None:
    if subscription.plan.is_free:
        raise errors.NotSubscribed()


def require_changeable(subscription: Subscription) -> None:
    if subscription.status == SubscriptionStatus.CANCELED:
        raise errors.SubscriptionNotChangeable()
    if subscription.status == SubscriptionStatus.PAST_DUE:
        raise errors.SubscriptionPastDue()


def _period(ctx: Context) -> tuple[date, date]:
    """The current period's dates, ``today`` inside it (else a renewal is pending)."""
    start = day_of(ctx.subscription.current_period_start, ctx.zone)
    end = day_of(ctx.subscription.current_period_end, ctx.zone)
    if not start <= ctx.today < end:
        raise errors.RenewalPending()
    return start, end


def sellable_price(workspace: Workspace, price_id: object) -> Price:
    if not is_int(price_id):
        raise errors.UnknownPlan()
    price = (
        Price.objects.select_related("plan").filter(pk=price_id, is_active=True, plan__is_public=True).first()
    )
    if price is None:
        raise errors.UnknownPlan()
    if price.currency != workspace.currency:
        raise errors.PriceCurrencyMismatch()
    if price.plan.is_free:
        raise errors.FreePlanNotSellable()
    return price


# --- Seats: what the subscription bills before and after a change ----------------------------


def seats_after(ctx: Context, *, plan: Any, price: Price, extra_seats: int) -> SeatPlan:
    """The paid seats once the subscription is on ``plan``/``price`` with ``extra_seats``:
    the plan :func:`teams.services.seats_sync` applies in the same transaction."""
    wanted = wanted_paid_seats(
        seats_are_free=bool(plan.seats_are_free),
        licensed=ctx.licensed,
        included=int(plan.included_seats),
        extra_seats=extra_seats,
    )
    return plan_seats(
        ctx.seats, wanted=wanted, interval=price.interval, seat_prices=selectors.seat_prices(price)
    )


def billable_after(plan: Any, extra_seats: int, seats: SeatPlan) -> int:
    return pricing.subscription_billable_seats(
        plan, extra_seats=extra_seats, coterm_paid_seats=seats.coterm_after
    )


def _own_unused(seat: SeatState, today: date, zone: tzinfo) -> Proration | None:
    """The unused time of a seat billed on its own interval, from ``today`` (the span a
    change bills again), or None when its period is over."""
    start, end = day_of(seat.period_start, zone), day_of(seat.period_end, zone)
    if not start <= today < end:
        return None
    return charge_proration(seat.price_cents, start, end, today, Interval(seat.interval))


def own_seat_lines(ctx: Context, seats: SeatPlan, *, plan_before: Any, plan_after: Any) -> list[DraftLine]:
    """The money of paid seats billed on their own interval that a change touches (seed
    002: a seat on another interval is billed only by its own renewal):

    - a seat that ends, or that the subscription bills from now on (its interval is now
      the subscription's, or no longer sold), gets its unused time credited;
    - a seat that stays on its own interval at another price (a plan change) gets its
      unused time credited and the rest of its period charged at the new price.

    Both over the same span, from today, by :func:`~domain.proration.charge_proration`
    (the rule of a plan change), so a change and its reversal net to zero.
    """
    span_start = midnight(ctx.today, ctx.zone)
    lines: list[DraftLine] = []

    def credit(seat: SeatState, unused: Proration) -> None:
        if unused.amount_cents:
            lines.append(
                pricing.own_seat_credit_line(
                    plan_name=plan_before.name,
                    email=seat.email,
                    price_cents=seat.price_cents,
                    proration=unused,
                    start=span_start,
                    end=seat.period_end,
                )
            )

    for seat in [*seats.ended_own_interval, *(t.seat for t in seats.kept if t.joins_subscription)]:
        unused = _own_unused(seat, ctx.today, ctx.zone)
        if unused is not None:
            credit(seat, unused)
    for terms in seats.kept:
        if not terms.repriced_on_its_own:
            continue
        seat = terms.seat
        unused = _own_unused(seat, ctx.today, ctx.zone)
        if unused is None:
            continue
        start, end = day_of(seat.period_start, ctx.zone), day_of(seat.period_end, ctx.zone)
        charge = charge_proration(terms.price_cents, start, end, ctx.today, Interval(terms.interval))
        if charge.amount_cents:
            lines.append(
                pricing.own_seat_charge_line(
                    plan_name=plan_after.name,
                    email=seat.email,
                    price_cents=terms.price_cents,
                    proration=charge,
                    start=span_start,
                    end=seat.period_end,
                )
            )
        credit(seat, unused)
    return lines


# --- Computations: one per operation -------------------------------------------------------


def compute_subscribe(ctx: Context, price: Price, trial: bool, extra_seats: object = 0) -> Change:
    sub = ctx.subscription
    plan = price.plan
    if not is_count(extra_seats, 0, extra_seat_cap(sub, plan)):
        raise errors.SeatCountInvalid()
    assert isinstance(extra_seats, int)
    if extra_seats and (not plan.allows_extras or plan.seats_are_free):
        raise errors.ExtrasUnavailable()
    if not sub.plan.is_free:
        raise errors.AlreadySubscribed()
    today = ctx.today
    start = midnight(today, ctx.zone)
    billable = billable_after(
        plan, extra_seats, seats_after(ctx, plan=plan, price=price, extra_seats=extra_seats)
    )
    base = {
        "plan": plan,
        "price": price,
        "extra_seats": extra_seats,
        "auto_renew": True,
        "cancel_reason": "",
        "cancel_comment": "",
        "canceled_at": None,
        "trial_reminder_sent_at": None,
        "current_period_start": start,
    }
    params = {"price_id": price.pk, "trial": trial, "extra_seats": extra_seats}
    if trial:
        if plan.trial_days <= 0:
            raise errors.TrialUnavailable()
        if SubscriptionEvent.objects.filter(workspace=ctx.workspace, kind=EventKind.TRIAL_STARTED).exists():
            raise errors.TrialAlreadyUsed()
        trial_end_date = today + timedelta(days=plan.trial_days)
        trial_end = midnight(trial_end_date, ctx.zone)
        return Change(
            action="subscribe",
            params=params,
            lines=[],
            billing_reason=None,
            event_kind=EventKind.TRIAL_STARTED,
            updates={
                **base,
                "status": SubscriptionStatus.TRIALING,
                "current_period_end": trial_end,
                "trial_end": trial_end,
                "billing_anchor_day": trial_end_date.day,
            },
            resets_allowance=True,
            event_data={"plan": plan.code, "interval": price.interval, "trial_end": trial_end},
            billable_after=billable,
            syncs_seats=True,
        )
    end = midnight(add_interval(today, Interval(price.interval), anchor_day=today.day), ctx.zone)
    lines = pricing.period_lines(
        plan=plan, price=price, billable=billable, addons=ctx.addons, start=start, end=end
    )
    return Change(
        action="subscribe",
        params=params,
        lines=lines,
        billing_reason=BillingReason.SUBSCRIPTION_CREATE,
        event_kind=EventKind.SUBSCRIBED,
        updates={
            **base,
            "status": SubscriptionStatus.ACTIVE,
            "current_period_end": end,
            "trial_end": None,
            "billing_anchor_day": today.day,
        },
        resets_allowance=True,
        event_data={"plan": plan.code, "interval": price.interval},
        billable_after=billable,
        syncs_seats=True,
    )


def _clamped_extra_seats(subscription: Subscription, plan: Any) -> int:
    if not plan.allows_extras or plan.seats_are_free:
        return 0
    return min(subscription.extra_seats, extra_seat_cap(subscription, plan))


def compute_change_plan(ctx: Context, price: Price) -> Change:
    sub = ctx.subscription
    require_paid(sub)
    require_changeable(sub)
    if sub.price.interval == Interval.YEAR and price.interval != Interval.YEAR:
        raise errors.AnnualLocked()
    if price.interval != sub.price.interval:
        raise errors.IntervalMismatch()
    if price.plan_id == sub.plan_id:
        raise errors.SamePlan()
    new_plan = price.plan
    new_extra = _clamped_extra_seats(sub, new_plan)
    seats = seats_after(ctx, plan=new_plan, price=price, extra_seats=new_extra)
    new_billable = billable_after(new_plan, new_extra, seats)
    lines = []
    if not sub.in_trial(ctx.now):
        # Net = charge for the new plan's remaining time − credit for the old plan's
        # unused time, both over the same span (docs/rules/proration.md#plan-changes).
        start, end = _period(ctx)
        interval = Interval(price.interval)
        old_full = pricing.period_amount(sub.price, ctx.billable_seats)
        new_full = pricing.period_amount(price, new_billable)
        span_start = midnight(ctx.today, ctx.zone)
        if new_full:
            lines.append(
                pricing.prorated_plan_line(
                    plan=new_plan,
                    full_amount=new_full,
                    proration=charge_proration(new_full, start, end, ctx.today, interval),
                    start=span_start,
                    end=sub.current_period_end,
                )
            )
        if old_full:
            lines.append(
                pricing.unused_time_line(
                    plan=sub.plan,
                    full_amount=old_full,
                    proration=charge_proration(old_full, start, end, ctx.today, interval),
                    start=span_start,
                    end=sub.current_period_end,
                )
            )
    lines.extend(own_seat_lines(ctx, seats, plan_before=sub.plan, plan_after=new_plan))
    return Change(
        action="change_plan",
        params={"price_id": price.pk},
        lines=lines,
        billing_reason=BillingReason.PLAN_CHANGE,
        event_kind=EventKind.PLAN_CHANGED,
        updates={"plan": new_plan, "price": price, "extra_seats": new_extra},
        resets_allowance=True,
        event_data={
            "from_plan": sub.plan.code,
            "to_plan": new_plan.code,
            "direction": _direction(sub, new_plan),
        },
        billable_after=new_billable,
        syncs_seats=True,
    )


def _direction(subscription: Subscription, new_plan: Any) -> str:
    return "upgrade" if new_plan.rank > subscription.plan.rank else "downgrade"


def _addons_amount(ctx: Context, interval: str) -> int:
    return sum(pricing.addon_period_amount(a.monthly_amount, a.quantity, interval) for a in ctx.addons)


def compute_switch_to_annual(ctx: Context) -> Change:
    sub = ctx.subscription
    require_paid(sub)
    require_changeable(sub)
    if sub.price.interval == Interval.YEAR:
        raise errors.AlreadyAnnual()
    if sub.price.interval != Interval.MONTH:
        raise errors.AnnualSwitchUnavailable()
    annual = selectors.annual_price_for(sub.plan, sub.price.currency)
    if annual is None:
        raise errors.AnnualSwitchUnavailable()
    event_data = {"plan": sub.plan.code, "from_price": sub.price_id, "to_price": annual.pk}
    seats = seats_after(ctx, plan=sub.plan, price=annual, extra_seats=sub.extra_seats)
    billable = billable_after(sub.plan, sub.extra_seats, seats)
    seat_lines = own_seat_lines(ctx, seats, plan_before=sub.plan, plan_after=sub.plan)
    if sub.in_trial(ctx.now):
        # Nothing of the plan was paid yet: the trial goes on and ends on an annual charge.
        return Change(
            action="switch_to_annual",
            params={},
            lines=seat_lines,
            billing_reason=BillingReason.ANNUAL_SWITCH,
            event_kind=EventKind.SWITCHED_TO_ANNUAL,
            updates={"price": annual},
            event_data=event_data,
            billable_after=billable,
            syncs_seats=True,
        )
    period_start, period_end = _period(ctx)
    today = ctx.today
    start = midnight(today, ctx.zone)
    end = midnight(add_interval(today, Interval.YEAR, anchor_day=today.day), ctx.zone)
    lines = pricing.period_lines(
        plan=sub.plan, price=annual, billable=billable, addons=ctx.addons, start=start, end=end
    )
    # The unused monthly time is credited, by the same rule as a plan change.
    monthly_full = pricing.period_amount(sub.price, ctx.billable_seats) + _addons_amount(ctx, Interval.MONTH)
    if monthly_full:
        lines.append(
            pricing.unused_time_line(
                plan=sub.plan,
                full_amount=monthly_full,
                proration=charge_proration(monthly_full, period_start, period_end, today, Interval.MONTH),
                start=start,
                end=sub.current_period_end,
            )
        )
    lines.extend(seat_lines)
    return Change(
        action="switch_to_annual",
        params={},
        lines=lines,
        billing_reason=BillingReason.ANNUAL_SWITCH,
        event_kind=EventKind.SWITCHED_TO_ANNUAL,
        updates={
            "price": annual,
            "current_period_start": start,
            "current_period_end": end,
            "billing_anchor_day": today.day,
        },
        # The renewal day moves to today, and the credit period with it.
        resets_allowance=True,
        event_data=event_data,
        billable_after=billable,
        syncs_seats=True,
    )


def compute_customize(ctx: Context, extra_seats: object, credit_packs: object) -> Change:
    sub = ctx.subscription
    plan = sub.plan
    if not is_count(extra_seats, 0, extra_seat_cap(sub, plan)):
        raise errors.SeatCountInvalid()
    if not is_count(credit_packs, 0, MAX_CREDIT_PACKS):
        raise errors.CreditPacksInvalid()
    assert isinstance(extra_seats, int)
    assert isinstance(credit_packs, int)
    require_paid(sub)
    require_changeable(sub)
    if not plan.allows_extras or plan.seats_are_free:
        raise errors.ExtrasUnavailable()
    if credit_packs and not (plan.credit_pack_size and sub.price.credit_pack_amount):
        raise errors.ExtrasUnavailable()
    if extra_seats == sub.extra_seats and not credit_packs:
        raise errors.NothingToChange()
    lines = []
    seats = seats_after(ctx, plan=plan, price=sub.price, extra_seats=extra_seats)
    new_billable = billable_after(plan, extra_seats, seats)
    # Extra seats that members beyond the capacity filled already (co-termed paid seats
    # ending) cost nothing more: the subscription billed those seats.
    delta = new_billable - ctx.billable_seats
    if delta and not sub.in_trial(ctx.now) and sub.price.seat_amount:
        # Seats added are charged from today, seats removed credited from today (day
        # units) or from next month (annual), docs/rules/proration.md#removing-a-seat.
        start, end = _period(ctx)
        amount = int(sub.price.seat_amount) * abs(delta)
        prorate = charge_proration if delta > 0 else removal_credit_proration
        proration = prorate(amount, start, end, ctx.today, Interval(sub.price.interval))
        if proration.amount_cents:
            lines.append(
                pricing.seat_change_line(
                    plan=plan,
                    delta=delta,
                    seat_amount=int(sub.price.seat_amount),
                    proration=proration,
                    start=midnight(ctx.today, ctx.zone),
                    end=sub.current_period_end,
                )
            )
    lines.extend(own_seat_lines(ctx, seats, plan_before=plan, plan_after=plan))
    if credit_packs:
        lines.append(
            pricing.credit_packs_line(
                packs=credit_packs,
                pack_size=int(plan.credit_pack_size),
                pack_amount=int(sub.price.credit_pack_amount),
            )
        )
        if sum(line.amount_cents for line in lines) <= 0:
            raise errors.MixedCustomization()
    return Change(
        action="customize",
        params={"extra_seats": extra_seats, "credit_packs": credit_packs},
        lines=lines,
        billing_reason=BillingReason.CUSTOMIZATION,
        event_kind=EventKind.CUSTOMIZED,
        updates={"extra_seats": extra_seats},
        event_data={
            "extra_seats_before": sub.extra_seats,
            "extra_seats": extra_seats,
            "credit_packs": credit_packs,
            "credits": credit_packs * int(plan.credit_pack_size),
        },
        billable_after=new_billable,
        syncs_seats=True,
    )
