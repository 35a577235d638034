"""The data migration that gives co-termed seats to the licences a subscription billed
before the seat rows were synced with billing: what it bills does not change."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps

from billing.services.renewals import renew_due_subscriptions
from subscriptions.models import Price, Subscription
from teams.models import Seat, SeatStatus
from tests.factories import MembershipFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db

backfill = importlib.import_module(
    "teams.migrations.0002_cotermed_seats_for_billed_licences"
).seat_billed_licences


def _subscribed(workspace, plan: str, *, extra_seats: int = 0) -> Subscription:
    price = Price.objects.get(plan__code=plan, interval="month", currency="EUR", is_active=True)
    return Subscription.objects.update_or_create(
        workspace=workspace,
        defaults={
            "plan": price.plan,
            "price": price,
            "current_period_start": datetime(2026, 5, 1, tzinfo=UTC),
            "current_period_end": datetime(2026, 6, 1, tzinfo=UTC),
            "billing_anchor_day": 1,
            "extra_seats": extra_seats,
        },
    )[0]


def test_billed_licences_get_cotermed_seats_once(workspace, owner, other_workspace):
    for _ in range(3):
        MembershipFactory(workspace=workspace, role=Role.MEMBER)
    MembershipFactory(workspace=workspace, role=Role.GUEST)
    _subscribed(workspace, "pro", extra_seats=0)  # 4 licences, 3 included: 1 billed seat
    _subscribed(other_workspace, "business")  # 2 licences, none included: 2 billed seats

    backfill(apps, None)
    backfill(apps, None)

    seats = Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE)
    assert seats.count() == 1
    seat = seats.get()
    assert seat.coterm
    assert seat.membership.role == Role.MEMBER
    assert (seat.interval, seat.price_cents, seat.period_end) == (
        "month",
        1_299,
        datetime(2026, 6, 1, tzinfo=UTC),
    )
    assert Seat.objects.filter(workspace=other_workspace, coterm=True).count() == 2

    renew_due_subscriptions(now=datetime(2026, 6, 1, 0, 5, tzinfo=UTC))
    totals = dict(
        Subscription.objects.filter(workspace__in=[workspace, other_workspace]).values_list(
            "workspace__name", "workspace__invoices__total_cents"
        )
    )
    # What the subscriptions billed before: Pro + 1 seat, Business × 2 licences (VAT included).
    assert totals == {"Acme Test": 3_118, "Other Corp": 4_800}


def test_extra_seats_and_free_plans_need_no_seat(workspace, owner, other_workspace):
    for _ in range(4):
        MembershipFactory(workspace=workspace, role=Role.MEMBER)
    _subscribed(workspace, "pro", extra_seats=2)  # 5 licences ≤ 3 included + 2 extra
    _subscribed(other_workspace, "free")

    backfill(apps, None)

    assert not Seat.objects.exists()
