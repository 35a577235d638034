"""Team fixtures and helpers: workspaces on a paid plan, members joining, what a refused
seat change must leave untouched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from invoices.selectors import account_balance_cents
from subscriptions.models import Plan, Subscription
from teams import services as membership_services
from teams.models import Seat, SeatCharge
from tests.factories import MembershipFactory, SubscriptionRowFactory, UserFactory
from workspaces.models import Invitation, Membership, Role, Workspace


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


MARCH_1 = date(2026, 3, 1)

#: The test workspaces' billing time zone, the product's default
#: (docs/rules/billing-calendar.md#billing-time-zone): the period boundaries the services
#: store are midnights there, e.g. ``datetime(2026, 3, 15, tzinfo=PARIS)``.
PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int) -> datetime:
    """Midnight of that day in Paris: where the periods the services store begin and end."""
    return datetime(year, month, day, tzinfo=PARIS)


def join(workspace, actor, email, role=Role.MEMBER) -> Membership:
    invitation = membership_services.invitation_create(
        workspace=workspace, actor=actor, email=email, role=role
    )
    return membership_services.invitation_accept(token=invitation.token, user=UserFactory(email=email))


def snapshot(workspace):
    """Everything a refused seat change must leave untouched."""
    return (
        sorted(Membership.objects.filter(workspace=workspace).values_list("pk", "role")),
        sorted(
            Invitation.objects.filter(workspace=workspace).values_list("email", "accepted_at", "revoked_at")
        ),
        sorted(Seat.objects.filter(workspace=workspace).values_list("pk", "status", "membership_id")),
        sorted(SeatCharge.objects.filter(workspace=workspace).values_list("pk", "status", "amount_cents")),
        account_balance_cents(workspace),
    )


def french(message) -> str:
    with translation.override("fr"):
        return str(message)


@pytest.fixture
def pro_annual(workspace) -> Subscription:
    """docs/rules/proration.md#example-1-annual-seat-added: Pro, annual, from 1 January 2026, card on file.

    The row written directly (no purchase invoice, charge or seat sync): the tests using it
    count every invoice and charge the seat rules make."""
    return SubscriptionRowFactory(workspace=workspace)


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
