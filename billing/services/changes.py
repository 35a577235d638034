"""The computations behind each billing operation (docs/rules/lifecycle.md,
docs/rules/proration.md): from the locked context to a :class:`Change` —
the invoice lines with their formula, the new subscription fields, the audit event.

Reads only (the catalog, the workspace's past trials): :mod:`billing.services.lifecycle`
runs a computation twice, for the preview and inside the transaction that applies it, and
compares the two.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, timedelta, tzinfo
from typing import Any

from billing.services.core import AddOnChange, Change, ChangeEffects, Context
from domain.calendar import day_of, midnight
from domain.checks import is_count, is_int
from domain.credit_periods import CreditReset, credit_period
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
#: A subscription holds at most this many units of one add-on.
MAX_ADDON_QUANTITY = 100
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


# --- What a change does besides money (docs/rules/lifecycle.md#previews) ------------------


def licences_of(plan: Any, *, licensed: int, extra_seats: int, paid_seats: int) -> int:
    """The licences the allowance counts (docs/rules/credits.md#licences), from counts:
    the included seats in use, the extra seats bought and the paid seats, never fewer
    than the members holding a licence; the members on a plan whose seats are free. The
    rule :func:`teams.selectors.licences_sql` reads from the rows."""
    if plan.seats_are_free:
        return licensed
    in_use = min(int(plan.included_seats), max(0, licensed - paid_seats))
    return max(licensed, in_use + extra_seats + paid_seats)


def allowance_for(plan: Any, licences: int, addons: Sequence[pricing.AddOnLine]) -> int:
    """The monthly allowance (docs/rules/credits.md#allowance): flat + per licence, plus
    the add-ons' monthly credits."""
    addon_credits = sum(int(a.monthly_credits) * int(a.quantity) for a in addons)
    return int(plan.credits_flat) + int(plan.credits_per_seat) * licences + addon_credits


def _credit_period(plan: Any, anchor_day: int, today: date) -> tuple[date, date]:
    reset = CreditReset(plan.credit_reset)
    return credit_period(reset, anchor_day if reset is CreditReset.RENEWAL else 1, today)


def change_effects(
    ctx: Context,
    *,
    plan: Any,
    price: Price,
    extra_seats: int,
    extra_wanted: int,
    seats: SeatPlan | None,
    anchor_day: int,
    resets_allowance: bool,
    addons_after: Sequence[pricing.AddOnLine] | None = None,
) -> ChangeEffects:
    """Seats, add-ons and allowance before and after a change, as the preview shows them.

    The allowance afterwards takes effect as :func:`credits.grants.allowance_reset_for_plan_change`
    applies it: at once when the change starts another credit period or raises the
    allowance, at the next reset when it lowers it (the current one is kept until then)
    or when the change does not touch the allowance (seats alone wait for the reset,
    docs/rules/credits.md#reset)."""
    sub = ctx.subscription
    addons = list(ctx.addons if addons_after is None else addons_after)
    paid_before = len(ctx.seats)
    prices: Counter[tuple[str, int]] = Counter()
    if seats is not None:
        for terms in seats.kept:
            prices[(terms.interval, terms.price_cents)] += 1
        if seats.added:
            prices[(price.interval, int(price.seat_amount))] += seats.added
    paid_after = sum(prices.values())
    before = allowance_for(
        sub.plan,
        licences_of(sub.plan, licensed=ctx.licensed, extra_seats=sub.extra_seats, paid_seats=paid_before),
        ctx.addons,
    )
    after = allowance_for(
        plan, licences_of(plan, licensed=ctx.licensed, extra_seats=extra_seats, paid_seats=paid_after), addons
    )
    period_before = _credit_period(sub.plan, sub.billing_anchor_day, ctx.today)
    at_once = resets_allowance and (
        plan.is_free or after >= before or _credit_period(plan, anchor_day, ctx.today) != period_before
    )
    quantities_before = {a.code: a.quantity for a in ctx.addons}
    quantities_after = {a.code: a.quantity for a in addons}
    named = {a.code: a for a in [*ctx.addons, *addons]}
    return ChangeEffects(
        interval=price.interval,
        extra_seats_before=sub.extra_seats,
        extra_seats_after=extra_seats,
        extra_seats_dropped=max(0, extra_wanted - extra_seats),
        seat_amount_cents=int(price.seat_amount),
        paid_seats_before=paid_before,
        paid_seats_after=tuple(
            (interval, cents, count) for (interval, cents), count in sorted(prices.items())
        ),
        paid_seats_ended=len(seats.ended) if seats is not None else 0,
        allowance_before=before,
        allowance_after=after,
        allowance_from=None if at_once or after == before else period_before[1],
        addons=tuple(
            AddOnChange(
                code=code,
                name=addon.name,
                monthly_credits=int(addon.monthly_credits),
                before=quantities_before.get(code, 0),
                after=quantities_after.get(code, 0),
            )
            for code, addon in sorted(named.items())
            if quantities_before.get(code, 0) or quantities_after.get(code, 0)
        ),
    )


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
    seats = seats_after(ctx, plan=plan, price=price, extra_seats=extra_seats)
    billable = billable_after(plan, extra_seats, seats)

    def effects(anchor_day: int) -> ChangeEffects:
        return change_effects(
            ctx,
            plan=plan,
            price=price,
            extra_seats=extra_seats,
            extra_wanted=extra_seats,
            seats=seats,
            anchor_day=anchor_day,
            resets_allowance=True,
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
            effects=effects(trial_end_date.day),
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
        effects=effects(today.day),
    )


def _clamped_extra_seats(subscription: Subscription, plan: Any) -> int:
    if not plan.allows_extras or plan.seats_are_free:
        return 0
    return min(subscription.extra_seats, extra_seat_cap(subscription, plan))


def compute_change_plan(ctx: Context, price: Price) -> Change:
    """A plan change on the current interval, or onto the new plan's annual price
    (docs/rules/lifecycle.md#change-plan): never back from annual before its period ends."""
    sub = ctx.subscription
    require_paid(sub)
    require_changeable(sub)
    if sub.price.interval == Interval.YEAR and price.interval != Interval.YEAR:
        raise errors.AnnualLocked()
    to_annual = price.interval != sub.price.interval
    if to_annual and price.interval != Interval.YEAR:
        raise errors.IntervalMismatch()
    if price.plan_id == sub.plan_id:
        raise errors.SamePlan()
    new_plan = price.plan
    new_extra = _clamped_extra_seats(sub, new_plan)
    seats = seats_after(ctx, plan=new_plan, price=price, extra_seats=new_extra)
    new_billable = billable_after(new_plan, new_extra, seats)
    in_trial = sub.in_trial(ctx.now)
    updates: dict[str, Any] = {"plan": new_plan, "price": price, "extra_seats": new_extra}
    lines = []
    if to_annual and not in_trial:
        # The annual period starts today, as in a switch to annual, and the unused time
        # of the current period is credited (docs/rules/lifecycle.md#switch-to-annual).
        period_start, period_end = _period(ctx)
        annual_start = midnight(ctx.today, ctx.zone)
        annual_end = midnight(add_interval(ctx.today, Interval.YEAR, anchor_day=ctx.today.day), ctx.zone)
        lines = pricing.period_lines(
            plan=new_plan,
            price=price,
            billable=new_billable,
            addons=ctx.addons,
            start=annual_start,
            end=annual_end,
        )
        old_full = pricing.period_amount(sub.price, ctx.billable_seats) + _addons_amount(
            ctx, sub.price.interval
        )
        if old_full:
            lines.append(
                pricing.unused_time_line(
                    plan=sub.plan,
                    full_amount=old_full,
                    proration=charge_proration(
                        old_full, period_start, period_end, ctx.today, Interval(sub.price.interval)
                    ),
                    start=annual_start,
                    end=sub.current_period_end,
                )
            )
        updates.update(
            {
                "current_period_start": annual_start,
                "current_period_end": annual_end,
                "billing_anchor_day": ctx.today.day,
            }
        )
    elif not in_trial:
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
        updates=updates,
        resets_allowance=True,
        event_data={
            "from_plan": sub.plan.code,
            "to_plan": new_plan.code,
            "direction": _direction(sub, new_plan),
            **({"from_interval": sub.price.interval, "to_interval": price.interval} if to_annual else {}),
        },
        billable_after=new_billable,
        syncs_seats=True,
        effects=change_effects(
            ctx,
            plan=new_plan,
            price=price,
            extra_seats=new_extra,
            extra_wanted=sub.extra_seats,
            seats=seats,
            anchor_day=int(updates.get("billing_anchor_day", sub.billing_anchor_day)),
            resets_allowance=True,
        ),
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


def _wanted_addons(ctx: Context, addons: Mapping[str, object] | None) -> tuple[pricing.AddOnLine, ...] | None:
    """The add-ons the subscription would hold (those sold, by code), or None when the
    request keeps them as they are."""
    if addons is None:
        return None
    catalog = {addon.code: addon for addon in selectors.addon_catalog(ctx.workspace.currency)}
    current = {line.code: line.quantity for line in ctx.addons}
    for code, quantity in addons.items():
        if code not in catalog or not is_count(quantity, 0, MAX_ADDON_QUANTITY):
            raise errors.AddOnQuantityInvalid()
    wanted = {code: int(addons.get(code, current.get(code, 0))) for code in catalog}  # type: ignore[call-overload]
    if {c: q for c, q in wanted.items() if q} == {c: q for c, q in current.items() if q}:
        return None
    return tuple(
        pricing.AddOnLine(
            name=catalog[code].name,
            monthly_amount=int(catalog[code].monthly_amount),
            quantity=quantity,
            code=code,
            monthly_credits=int(catalog[code].monthly_credits),
        )
        for code, quantity in wanted.items()
        if quantity
    )


def _addon_lines(ctx: Context, addons_after: tuple[pricing.AddOnLine, ...]) -> list[DraftLine]:
    """Add-ons added are charged from today, removed ones credited, exactly like extra
    seats (docs/rules/lifecycle.md#customize, docs/rules/proration.md#removing-a-seat)."""
    sub = ctx.subscription
    before = {line.code: line for line in ctx.addons}
    after = {line.code: line for line in addons_after}
    lines = []
    for code in sorted(before.keys() | after.keys()):
        addon = after.get(code) or before[code]
        delta = (after[code].quantity if code in after else 0) - (
            before[code].quantity if code in before else 0
        )
        unit = pricing.addon_period_amount(addon.monthly_amount, 1, sub.price.interval)
        if not delta or not unit:
            continue
        start, end = _period(ctx)
        prorate = charge_proration if delta > 0 else removal_credit_proration
        proration = prorate(unit * abs(delta), start, end, ctx.today, Interval(sub.price.interval))
        if proration.amount_cents:
            lines.append(
                pricing.addon_change_line(
                    name=addon.name,
                    delta=delta,
                    unit_amount=unit,
                    proration=proration,
                    start=midnight(ctx.today, ctx.zone),
                    end=sub.current_period_end,
                )
            )
    return lines


def compute_customize(
    ctx: Context, extra_seats: object, credit_packs: object, addons: Mapping[str, object] | None = None
) -> Change:
    """Extra seats, credit packs and add-ons (docs/rules/lifecycle.md#customize). Credit
    packs are sold on every plan that has one, Free included; extra seats and add-ons
    only with a paid plan (docs/rules/plans.md#extra-credits, docs/rules/plans.md#add-ons)."""
    sub = ctx.subscription
    plan = sub.plan
    if not is_count(extra_seats, 0, extra_seat_cap(sub, plan)):
        raise errors.SeatCountInvalid()
    if not is_count(credit_packs, 0, MAX_CREDIT_PACKS):
        raise errors.CreditPacksInvalid()
    assert isinstance(extra_seats, int)
    assert isinstance(credit_packs, int)
    addons_after = _wanted_addons(ctx, addons)
    packs_only = extra_seats == sub.extra_seats and addons_after is None
    if not (packs_only and sub.status == SubscriptionStatus.CANCELED):
        # Credit packs alone stay on sale until a cancelled subscription ends: paid first,
        # their credits survive the end (docs/rules/lifecycle.md#customize).
        require_changeable(sub)
    seats_sold = bool(plan.allows_extras) and not plan.seats_are_free and not plan.is_free
    if extra_seats != sub.extra_seats and not seats_sold:
        raise errors.ExtrasUnavailable()
    if addons_after is not None and plan.is_free:
        raise errors.AddOnsUnavailable()
    if credit_packs and not (plan.credit_pack_size and sub.price.credit_pack_amount):
        raise errors.ExtrasUnavailable()
    if extra_seats == sub.extra_seats and not credit_packs and addons_after is None:
        raise errors.NothingToChange()
    lines = []
    seats = seats_after(ctx, plan=plan, price=sub.price, extra_seats=extra_seats) if seats_sold else None
    new_billable = billable_after(plan, extra_seats, seats) if seats is not None else None
    # Extra seats that members beyond the capacity filled already (co-termed paid seats
    # ending) cost nothing more: the subscription billed those seats.
    delta = new_billable - ctx.billable_seats if new_billable is not None else 0
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
    if seats is not None:
        lines.extend(own_seat_lines(ctx, seats, plan_before=plan, plan_after=plan))
    if addons_after is not None and not sub.in_trial(ctx.now):
        lines.extend(_addon_lines(ctx, addons_after))
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
    # An add-on bought brings its monthly credits at once, for the current credit period.
    before = {line.code: line.quantity for line in ctx.addons}
    adds_credits = addons_after is not None and any(
        line.quantity > before.get(line.code, 0) and line.monthly_credits for line in addons_after
    )
    params: dict[str, Any] = {"extra_seats": extra_seats, "credit_packs": credit_packs}
    event_data: dict[str, Any] = {
        "extra_seats_before": sub.extra_seats,
        "extra_seats": extra_seats,
        "credit_packs": credit_packs,
        "credits": credit_packs * int(plan.credit_pack_size),
    }
    if addons_after is not None:
        params["addons"] = {line.code: line.quantity for line in addons_after}
        event_data["addons_before"] = {code: q for code, q in before.items() if q}
        event_data["addons"] = params["addons"]
    return Change(
        action="customize",
        params=params,
        lines=lines,
        billing_reason=BillingReason.CUSTOMIZATION,
        event_kind=EventKind.CUSTOMIZED,
        updates={"extra_seats": extra_seats},
        resets_allowance=adds_credits,
        event_data=event_data,
        billable_after=new_billable,
        syncs_seats=seats is not None,
        addons_after=addons_after,
        effects=change_effects(
            ctx,
            plan=plan,
            price=sub.price,
            extra_seats=extra_seats,
            extra_wanted=extra_seats,
            seats=seats,
            anchor_day=sub.billing_anchor_day,
            resets_allowance=adds_credits,
            addons_after=addons_after,
        ),
    )
