"""Reads of subscriptions, the catalog and seats, scoped by workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

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
from workspaces.models import Membership, Role, Workspace
from workspaces.permissions import holds_licence

#: Roles whose members hold a licence (a seat); guests and visitors hold none.
LICENSED_ROLES: tuple[str, ...] = tuple(role for role in Role.values if holds_licence(role))
#: Who hears about billing: the owner and admins (plus the workspace's billing email).
BILLING_CONTACT_ROLES: tuple[str, ...] = (Role.OWNER, Role.ADMIN)


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
    start = workspace.created_at
    return Subscription(
        workspace=workspace,
        plan=plan,
        price=free_price(plan, workspace.currency),
        status=SubscriptionStatus.ACTIVE,
        current_period_start=pricing.midnight(start.date()),
        current_period_end=pricing.midnight(add_interval(start.date(), Interval.MONTH, anchor_day=start.day)),
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


def licensed_seat_count(workspace: Workspace) -> int:
    """Members whose role holds a licence (SPEC.md "Plans": per-seat credits and prices)."""
    return Membership.objects.filter(workspace=workspace, role__in=LICENSED_ROLES).count()


@dataclass(frozen=True)
class SeatSummary:
    licensed: int
    included: int
    extra: int
    capacity: int
    billable: int
    max_members: int
    seats_are_free: bool


def coterm_paid_seat_count(workspace: Workspace) -> int:
    """Paid seats co-termed with the subscription (:func:`teams.selectors.coterm_paid_seat_count`)."""
    from teams.selectors import coterm_paid_seat_count as count

    return count(workspace)


def seat_summary(workspace: Workspace) -> SeatSummary:
    """Seats in use, bought and billed ("5 sur 10 UTILISATEURS": licensed of capacity);
    ``billable`` is what the subscription's renewal bills: extra seats + co-termed paid
    seats (paid seats on another interval are billed by their own renewal)."""
    subscription = subscription_of(workspace)
    plan = subscription.plan
    licensed = licensed_seat_count(workspace)
    return SeatSummary(
        licensed=licensed,
        included=plan.included_seats,
        extra=subscription.extra_seats,
        capacity=pricing.seat_capacity(plan, licensed, subscription.extra_seats),
        billable=pricing.subscription_billable_seats(
            plan, extra_seats=subscription.extra_seats, coterm_paid_seats=coterm_paid_seat_count(workspace)
        ),
        max_members=plan.max_members,
        seats_are_free=plan.seats_are_free,
    )


def billable_seat_count(workspace: Workspace) -> int:
    return seat_summary(workspace).billable


def addon_lines(subscription: Subscription) -> list[pricing.AddOnLine]:
    if subscription.pk is None:
        return []
    rows = SubscriptionAddOn.objects.filter(subscription=subscription, addon__is_active=True).select_related(
        "addon"
    )
    return [
        pricing.AddOnLine(
            name=row.addon.name, monthly_amount=int(row.addon.monthly_amount), quantity=row.quantity
        )
        for row in rows.order_by("addon__code")
    ]


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


def active_addons() -> QuerySet[AddOn]:
    return AddOn.objects.filter(is_active=True).order_by("code")


@dataclass(frozen=True)
class Savings:
    """What billing a year annually saves against 12 monthly periods (seed 001)."""

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


def annual_savings(workspace: Workspace) -> Savings | None:
    """12 × the monthly price − the annual price, for the current plan and the seats the
    subscription bills (extra + co-termed paid seats, which follow it to annual), from the
    real prices; ``None`` unless the subscription is monthly and an annual price exists."""
    subscription = subscription_of(workspace)
    if subscription.plan.is_free or subscription.price.interval != Interval.MONTH:
        return None
    annual = annual_price_for(subscription.plan, subscription.price.currency)
    if annual is None:
        return None
    billable = pricing.subscription_billable_seats(
        subscription.plan,
        extra_seats=subscription.extra_seats,
        coterm_paid_seats=coterm_paid_seat_count(workspace),
    )
    return savings_between(
        monthly_cents=pricing.period_amount(subscription.price, billable),
        annual_cents=pricing.period_amount(annual, billable),
        currency=subscription.price.currency,
    )


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
    end = pricing.midnight(add_interval(start.date(), Interval(price.interval), anchor_day=anchor_day))
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


def next_renewal(workspace: Workspace) -> RenewalQuote | None:
    """What the next renewal will charge and when; ``None`` when nothing renews (Free,
    cancelled)."""
    subscription = subscription_of(workspace)
    if subscription.plan.is_free or not subscription.auto_renew:
        return None
    if subscription.status == SubscriptionStatus.CANCELED:
        return None
    start = (
        subscription.trial_end
        if subscription.status == SubscriptionStatus.TRIALING and subscription.trial_end
        else subscription.current_period_end
    )
    return renewal_quote(
        workspace=workspace,
        plan=subscription.plan,
        price=subscription.price,
        extra_seats=subscription.extra_seats,
        coterm_paid_seats=coterm_paid_seat_count(workspace),
        addons=addon_lines(subscription),
        start=start,
        anchor_day=subscription.billing_anchor_day,
    )


def payment_method_of(workspace: Workspace) -> CardInfo | None:
    return get_gateway().default_payment_method(workspace)


def subscription_events(workspace: Workspace) -> QuerySet[SubscriptionEvent]:
    return (
        SubscriptionEvent.objects.filter(workspace=workspace)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def billing_contacts(workspace: Workspace) -> list[str]:
    """Owner and admins, and the billing email, once each: who gets billing emails."""
    emails = Membership.objects.filter(workspace=workspace, role__in=BILLING_CONTACT_ROLES).values_list(
        "user__email", flat=True
    )
    unique = {e.strip().lower(): e.strip() for e in [*emails, workspace.billing_email] if e and e.strip()}
    return sorted(unique.values(), key=str.lower)
