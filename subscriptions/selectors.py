"""Reads of subscriptions and the catalog, scoped by workspace.

Seats are counted by :mod:`teams.selectors` (a layer above): the reads here that bill
seats take their counts as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from domain.calendar import day_of, midnight
from domain.money import BASIS_POINTS_PER_UNIT, round_half_up
from domain.periods import MONTHS_PER_YEAR, Interval, add_interval
from gateways.base import CardInfo, get_gateway
from invoices.selectors import vat_context
from invoices.totals import DraftLine, Totals, compute_totals
from subscriptions import pricing
from subscriptions.models import (
    AddOn,
    Plan,
    Price,
    Subscription,
    SubscriptionAddOn,
    SubscriptionEvent,
    SubscriptionStatus,
)
from workspaces.models import Workspace


def free_plan() -> Plan:
    return Plan.objects.get(is_free=True)


def free_price(plan: Plan, currency: str) -> Price:
    """The Free plan's price in ``currency``, else its first active price (all are zero)."""
    prices = Price.objects.filter(plan=plan, is_active=True).order_by("id")
    price = prices.filter(currency=currency).first() or prices.first()
    if price is None:
        raise Price.DoesNotExist("The Free plan has no active price.")
    return price


def subscription_of(workspace: Workspace) -> Subscription:
    """The workspace's subscription with its plan and price.

    Every workspace gets a Free subscription at creation; one created before billing
    existed has no row yet and is on Free: an unsaved Free subscription describes it
    (services create the row when they first need it).
    """
    subscription = Subscription.objects.select_related("plan", "price").filter(workspace=workspace).first()
    if subscription is not None:
        return subscription
    plan = free_plan()
    zone = workspace.billing_zone
    start = day_of(workspace.created_at, zone)
    return Subscription(
        workspace=workspace,
        plan=plan,
        price=free_price(plan, workspace.currency),
        status=SubscriptionStatus.ACTIVE,
        current_period_start=midnight(start, zone),
        current_period_end=midnight(add_interval(start, Interval.MONTH, anchor_day=start.day), zone),
        billing_anchor_day=start.day,
    )


def seat_prices(price: Price) -> dict[str, int]:
    """The seat price of ``price``'s plan per interval sold in its currency (one query);
    ``price``'s own interval at ``price``'s seat amount (a subscription keeps its price)."""
    rows = Price.objects.filter(plan_id=price.plan_id, currency=price.currency, is_active=True).order_by("id")
    prices: dict[str, int] = {}
    for interval, seat_amount in rows.values_list("interval", "seat_amount"):
        prices.setdefault(interval, int(seat_amount))
    prices[price.interval] = int(price.seat_amount)
    return prices


def addon_lines(subscription: Subscription) -> list[pricing.AddOnLine]:
    if subscription.pk is None:
        return []
    rows = SubscriptionAddOn.objects.filter(subscription=subscription, addon__is_active=True).select_related(
        "addon"
    )
    return [
        pricing.AddOnLine(
            name=row.addon.name,
            monthly_amount=int(row.addon.monthly_amount),
            quantity=row.quantity,
            code=row.addon.code,
            monthly_credits=int(row.addon.monthly_credits),
        )
        for row in rows.order_by("addon__code")
    ]


def addon_catalog(currency: str) -> QuerySet[AddOn]:
    """The add-ons sold in ``currency`` (docs/rules/plans.md#add-ons), by code."""
    return AddOn.objects.filter(is_active=True, currency=currency).order_by("code")


def plan_catalog(workspace: Workspace) -> QuerySet[Plan]:
    """Public plans sold in the workspace's currency, each with ``offered_prices`` (its
    active prices in that currency, by interval), cheapest rank first: the plan picker."""
    prices = Price.objects.filter(is_active=True, currency=workspace.currency).order_by("interval")
    return (
        Plan.objects.filter(is_public=True, prices__is_active=True, prices__currency=workspace.currency)
        .distinct()
        .prefetch_related(Prefetch("prices", queryset=prices, to_attr="offered_prices"))
        .order_by("rank", "code")
    )


@dataclass(frozen=True)
class Savings:
    """What billing a year annually saves against 12 monthly periods
    (docs/rules/lifecycle.md#switch-to-annual)."""

    twelve_months_cents: int
    annual_cents: int
    amount_cents: int
    #: Of 12 × monthly, in basis points (1 667 = 16,67 %).
    percent_bp: int
    currency: str

    @property
    def percent(self) -> int:
        """Whole percent, rounded half up ("Économisez 92 %")."""
        return round_half_up(self.percent_bp, 100)


def savings_between(*, monthly_cents: int, annual_cents: int, currency: str) -> Savings:
    twelve = monthly_cents * MONTHS_PER_YEAR
    amount = twelve - annual_cents
    percent_bp = round_half_up(amount * BASIS_POINTS_PER_UNIT, twelve) if twelve else 0
    return Savings(
        twelve_months_cents=twelve,
        annual_cents=annual_cents,
        amount_cents=amount,
        percent_bp=percent_bp,
        currency=currency,
    )


def annual_price_for(plan: Plan, currency: str) -> Price | None:
    return Price.objects.filter(plan=plan, interval=Interval.YEAR, currency=currency, is_active=True).first()


@dataclass(frozen=True)
class RenewalQuote:
    at: datetime
    lines: tuple[DraftLine, ...]
    totals: Totals

    @property
    def amount_cents(self) -> int:
        return self.totals.total_cents


def renewal_quote(
    *,
    workspace: Workspace,
    plan: Plan,
    price: Price,
    extra_seats: int,
    coterm_paid_seats: int,
    addons: list[pricing.AddOnLine],
    start: datetime,
    anchor_day: int,
) -> RenewalQuote:
    """The invoice of the period starting at ``start`` (VAT included, before account
    credit): the plan, ``extra_seats`` + ``coterm_paid_seats`` seats, the add-ons."""
    zone = workspace.billing_zone
    end = midnight(add_interval(day_of(start, zone), Interval(price.interval), anchor_day=anchor_day), zone)
    lines = pricing.period_lines(
        plan=plan,
        price=price,
        billable=pricing.subscription_billable_seats(
            plan, extra_seats=extra_seats, coterm_paid_seats=coterm_paid_seats
        ),
        addons=addons,
        start=start,
        end=end,
    )
    vat_rate_bp, reverse_charge = vat_context(workspace)
    totals = compute_totals(
        lines, vat_rate_bp=vat_rate_bp, reverse_charge=reverse_charge, account_balance_cents=0
    )
    return RenewalQuote(at=start, lines=tuple(lines), totals=totals)


def payment_method_of(workspace: Workspace) -> CardInfo | None:
    return get_gateway().default_payment_method(workspace)


def subscription_events(workspace: Workspace) -> QuerySet[SubscriptionEvent]:
    return (
        SubscriptionEvent.objects.filter(workspace=workspace)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )
