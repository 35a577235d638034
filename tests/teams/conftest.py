"""Team fixtures: workspaces on a paid plan, with a test card on file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from domain.periods import Interval, add_interval
from subscriptions.models import (
    CardOutcome,
    Channel,
    PaymentMethod,
    Plan,
    Price,
    Subscription,
    SubscriptionStatus,
)
from tests.factories import MembershipFactory, UserFactory
from workspaces.models import Membership, Role, Workspace


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def subscribe(
    workspace: Workspace,
    *,
    plan: str = "pro",
    interval: str = Interval.YEAR,
    start: date = date(2026, 1, 1),
    channel: str = Channel.WEB,
    extra_seats: int = 0,
    card: str | None = CardOutcome.SUCCEEDS,
) -> Subscription:
    """Put ``workspace`` on a paid plan from ``start`` (the state a subscription purchase leaves)."""
    price = Price.objects.get(plan__code=plan, interval=interval, currency="EUR", is_active=True)
    end = add_interval(start, Interval(interval), anchor_day=start.day)
    subscription, _ = Subscription.objects.update_or_create(
        workspace=workspace,
        defaults={
            "plan": price.plan,
            "price": price,
            "status": SubscriptionStatus.ACTIVE,
            "current_period_start": datetime(start.year, start.month, start.day, tzinfo=UTC),
            "current_period_end": datetime(end.year, end.month, end.day, tzinfo=UTC),
            "billing_anchor_day": start.day,
            "channel": channel,
            "extra_seats": extra_seats,
        },
    )
    if card:
        PaymentMethod.objects.create(
            workspace=workspace, brand="Visa", last4="4242", exp_month=12, exp_year=2099, card_token=card
        )
    return subscription


@pytest.fixture
def pro_annual(workspace) -> Subscription:
    """docs/rules/proration.md#example-1-annual-seat-added: Pro, annual, from 1 January 2026, card on file."""
    return subscribe(workspace)


@pytest.fixture
def add_members(workspace) -> Callable[..., list[Membership]]:
    """Members added straight in the database (no seat rules): a team's starting state."""

    def make(count: int, role: str = Role.MEMBER, ws: Workspace | None = None) -> list[Membership]:
        return [MembershipFactory(workspace=ws or workspace, role=role) for _ in range(count)]

    return make


@pytest.fixture
def pro_plan(db) -> Plan:
    return Plan.objects.get(code="pro")


@pytest.fixture
def new_user() -> Callable[[str], object]:
    def make(email: str):
        return UserFactory(email=email)

    return make
