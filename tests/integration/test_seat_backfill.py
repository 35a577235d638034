"""The data migration that gives co-termed seats to the licences a subscription billed
before the seat rows were synced with billing: what it bills does not change."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime

import pytest
from django.apps import apps

from billing.services.renewals import renew_due_subscriptions
from subscriptions.models import Subscription
from teams.models import Seat, SeatStatus
from tests.factories import MembershipFactory, SubscriptionRowFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db

backfill = importlib.import_module(
    "teams.migrations.0002_cotermed_seats_for_billed_licences"
).seat_billed_licences


def _bought_before_seat_sync(workspace, plan: str, *, extra_seats: int = 0) -> Subscription:
    """Monthly ``plan`` since 1 May 2026, the row written directly: the migration's input is
    a subscription bought before seats were synced with billing, a state the services no
    longer produce (a purchase now syncs the seats)."""
    return SubscriptionRowFactory(
        workspace=workspace,
        plan_code=plan,
        interval="month",
        start=date(2026, 5, 1),
        extra_seats=extra_seats,
        card=False,
    )


def test_billed_licences_get_cotermed_seats_once(workspace, owner, other_workspace):
    for _ in range(3):
        MembershipFactory(workspace=workspace, role=Role.MEMBER)
    MembershipFactory(workspace=workspace, role=Role.GUEST)
    _bought_before_seat_sync(workspace, "pro", extra_seats=0)  # 4 licences, 3 included: 1 billed seat
    _bought_before_seat_sync(other_workspace, "business")  # 2 licences, none included: 2 billed seats

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
    _bought_before_seat_sync(workspace, "pro", extra_seats=2)  # 5 licences ≤ 3 included + 2 extra
    _bought_before_seat_sync(other_workspace, "free")

    backfill(apps, None)

    assert not Seat.objects.exists()
