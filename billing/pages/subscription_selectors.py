"""The subscription as the pages read it: the plan card, the annual offer, the plan picker.

Composes the other apps' selectors (subscriptions, teams) and the pure pricing helpers:
a page reads the subscription once (:func:`load_subscription`) and passes it along
instead of letting every selector fetch it again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

from django.db.models import Exists, F, Func, IntegerField, OuterRef, QuerySet, Subquery

from billing.pages.cards import AnnualOffer, Extras, OverviewPage, PlanOption, SubscriptionCard, UsersCard
from domain.calendar import day_of
from domain.cards import expires_soon
from domain.periods import Interval
from gateways.base import CardInfo
from subscriptions import pricing
from subscriptions import selectors as billing_selectors
from subscriptions.models import Price, Subscription, SubscriptionAddOn, SubscriptionStatus
from teams import selectors as team_selectors
from teams.models import Seat, SeatStatus
from workspaces.models import Membership, Workspace
from workspaces.permissions import LICENSED_ROLES

_ENDED = (SubscriptionStatus.CANCELED, SubscriptionStatus.EXPIRED)


@dataclass(frozen=True)
class LoadedSubscription:
    """The subscription and what the cards compute from it."""

    subscription: Subscription
    licensed: int
    paid_seats: int
    #: Paid seats co-termed with the subscription: billed by its renewal
    #: (docs/rules/proration.md#co-terming).
    coterm_seats: int
    annual_price: Price | None
    has_addons: bool


def _count(rows: QuerySet[Any]) -> Subquery:
    """``SELECT COUNT(*)`` of ``rows`` as a subquery: no GROUP BY, so 0 when none match."""
    return Subquery(
        rows.order_by().annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField())).values("n")
    )


@cache
def _subscriptions_loaded() -> QuerySet[Subscription]:
    """Subscriptions with their plan and price, TEAMS' seat counts, the plan's annual price
    in the same currency and whether add-ons are on: every card of the Overview.

    Built once, on first use: each call only filters it (building the subqueries is
    most of what this query costs in Python).
    """
    same_workspace = OuterRef("workspace_id")
    active_seats = Seat.objects.filter(workspace_id=same_workspace, status=SeatStatus.ACTIVE)
    annual = Price.objects.filter(
        plan_id=OuterRef("plan_id"),
        interval=Interval.YEAR,
        currency=OuterRef("price__currency"),
        is_active=True,
    ).order_by("id")
    return (
        Subscription.objects.select_related("plan", "price")
        .annotate(
            licensed=_count(Membership.objects.filter(workspace_id=same_workspace, role__in=LICENSED_ROLES)),
            paid_seats=_count(active_seats),
            coterm_seats=_count(active_seats.filter(coterm=True)),
            annual_price_id=Subquery(annual.values("id")[:1]),
            has_addons=Exists(
                SubscriptionAddOn.objects.filter(subscription_id=OuterRef("pk"), addon__is_active=True)
            ),
        )
        .order_by()
    )


def load_subscription(workspace: Workspace) -> LoadedSubscription:
    """The workspace's subscription with its plan and price, its licensed members and paid
    seats (what TEAMS' ``seat_summary`` counts), its plan's annual price in its currency
    and whether it has add-ons.

    One query, plus one for the annual price when it is not the subscription's own (a
    monthly subscription); three when the workspace predates billing and has no row yet.
    """
    subscription = next(iter(_subscriptions_loaded().filter(workspace=workspace)[:1]), None)
    if subscription is None:
        free = billing_selectors.subscription_of(workspace)
        free.workspace = workspace
        return LoadedSubscription(
            subscription=free,
            licensed=team_selectors.licensed_count(workspace),
            paid_seats=team_selectors.paid_seat_count(workspace),
            coterm_seats=team_selectors.coterm_paid_seat_count(workspace),
            annual_price=None,
            has_addons=False,
        )
    subscription.workspace = workspace
    annual_id = subscription.annual_price_id  # type: ignore[attr-defined]
    annual_price: Price | None = None
    if annual_id == subscription.price_id:
        annual_price = subscription.price
    elif annual_id is not None:
        annual_price = Price.objects.get(pk=annual_id)
    return LoadedSubscription(
        subscription=subscription,
        licensed=int(subscription.licensed),  # type: ignore[attr-defined]
        paid_seats=int(subscription.paid_seats),  # type: ignore[attr-defined]
        coterm_seats=int(subscription.coterm_seats),  # type: ignore[attr-defined]
        annual_price=annual_price,
        has_addons=bool(subscription.has_addons),  # type: ignore[attr-defined]
    )


def seat_extras(subscription: Subscription) -> tuple[int, int]:
    """Extra seats bought and what they cost per period (each is billed with the
    subscription, filled or not: members beyond them hold paid seats of their own)."""
    plan, price = subscription.plan, subscription.price
    extra = int(subscription.extra_seats)
    if plan.seats_are_free or not extra:
        return extra, 0
    return extra, int(price.seat_amount) * extra


def subscription_card(
    workspace: Workspace,
    subscription: Subscription,
    *,
    coterm_seats: int,
    addons: list[pricing.AddOnLine],
    card: CardInfo | None,
    now: datetime,
) -> SubscriptionCard:
    """The plan card: no query of its own (the renewal amount is computed from prices)."""
    plan, price = subscription.plan, subscription.price
    next_at: datetime | None = None
    next_cents: int | None = None
    renews = not plan.is_free and subscription.auto_renew and subscription.status not in _ENDED
    if renews:
        start = (
            subscription.trial_end
            if subscription.status == SubscriptionStatus.TRIALING and subscription.trial_end
            else subscription.current_period_end
        )
        quote = billing_selectors.renewal_quote(
            workspace=workspace,
            plan=plan,
            price=price,
            extra_seats=subscription.extra_seats,
            coterm_paid_seats=coterm_seats,
            addons=addons,
            start=start,
            anchor_day=subscription.billing_anchor_day,
        )
        next_at, next_cents = quote.at, quote.amount_cents
    trial_days_left = 0
    if subscription.status == SubscriptionStatus.TRIALING and subscription.trial_end:
        trial_days_left = max(0, math.ceil((subscription.trial_end - now) / timedelta(days=1)))
    return replace(
        _card(
            subscription, next_at=next_at, next_cents=next_cents, trial_days_left=trial_days_left, card=card
        ),
        card_expires_soon=card is not None
        and expires_soon(card.exp_month, card.exp_year, day_of(now, workspace.billing_zone)),
    )


def settings_page(workspace: Workspace) -> OverviewPage:
    """The Settings tab only needs the plan card (status, period, renewal): one query."""
    subscription = billing_selectors.subscription_of(workspace)
    subscription.workspace = workspace
    return OverviewPage(
        subscription=_card(subscription, next_at=None, next_cents=None, trial_days_left=0, card=None),
        extras=Extras(0, 0, 0, ()),
        users=UsersCard(0, 0),
    )


def _card(
    subscription: Subscription,
    *,
    next_at: datetime | None,
    next_cents: int | None,
    trial_days_left: int,
    card: CardInfo | None,
) -> SubscriptionCard:
    plan, price = subscription.plan, subscription.price
    per_seat = not price.base_amount and bool(price.seat_amount)
    return SubscriptionCard(
        subscription=subscription,
        plan=plan,
        price=price,
        currency=price.currency,
        interval=price.interval,
        plan_price_cents=int(price.seat_amount if per_seat else price.base_amount),
        price_is_per_seat=per_seat,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        next_billing_at=next_at,
        next_billing_cents=next_cents,
        auto_renew=bool(subscription.auto_renew) and subscription.status != SubscriptionStatus.CANCELED,
        trial_end=subscription.trial_end,
        trial_days_left=trial_days_left,
        card=card,
    )


def annual_offer(
    subscription: Subscription, *, coterm_seats: int, annual: Price | None | Literal["load"] = "load"
) -> AnnualOffer | None:
    """Shown only on a monthly price with an annual price for the same plan; savings =
    12 × monthly − annual, from the real prices and the current seats
    (docs/rules/lifecycle.md#switch-to-annual)."""
    plan, price = subscription.plan, subscription.price
    if plan.is_free or price.interval != Interval.MONTH or subscription.status in _ENDED:
        return None
    if annual == "load":
        annual = billing_selectors.annual_price_for(plan, price.currency)
    if annual is None:
        return None
    billable = pricing.subscription_billable_seats(
        plan, extra_seats=subscription.extra_seats, coterm_paid_seats=coterm_seats
    )
    savings = billing_selectors.savings_between(
        monthly_cents=pricing.period_amount(price, billable),
        annual_cents=pricing.period_amount(annual, billable),
        currency=price.currency,
    )
    if savings.amount_cents <= 0:
        return None
    return AnnualOffer(
        percent=savings.percent,
        amount_cents=savings.amount_cents,
        currency=savings.currency,
        annual_price=annual,
    )


def plan_options(workspace: Workspace, subscription: Subscription) -> list[PlanOption]:
    """The plan picker: public plans with their prices per interval (two queries).

    From Free, any paid price is choosable. A paid subscription changes plan on its
    billing period or onto the other plan's annual price; an annual one cannot move back
    to a shorter period before its annual period ends (docs/rules/lifecycle.md#change-plan).
    Its own plan's annual price is the switch to annual, a page of its own.
    """
    options = []
    current_interval = None if subscription.plan.is_free else subscription.price.interval
    for plan in billing_selectors.plan_catalog(workspace):
        prices: tuple[Price, ...] = tuple(plan.offered_prices)  # type: ignore[attr-defined]
        is_current = plan.pk == subscription.plan_id
        if plan.is_free or is_current:
            choosable: tuple[Price, ...] = ()
        elif current_interval is None:
            choosable = prices
        else:
            choosable = tuple(p for p in prices if p.interval in (current_interval, Interval.YEAR))
        options.append(PlanOption(plan=plan, prices=prices, is_current=is_current, choosable=choosable))
    return options
