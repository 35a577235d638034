"""The seat sync billing calls after it changed the subscription (a purchase, extra
seats, a switch to annual)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from domain.periods import Interval
from invoices.selectors import account_balance_cents
from teams import selectors, services
from teams.models import ChargeStatus, Seat, SeatCharge, SeatStatus
from tests.factories import (
    SubscriptionRowFactory,
)
from tests.teams.conftest import MARCH_1, at, join, paris

pytestmark = pytest.mark.django_db


# --- after billing changed the subscription ---------------------------------------------------------


def test_seats_sync_after_a_purchase_gives_the_members_beyond_the_included_ones_a_seat_unbilled(
    workspace, owner, add_members, other_workspace
):
    add_members(4)  # 5 licensed on Free
    # What billing writes when it sells Pro for them, before it calls the sync under test.
    SubscriptionRowFactory(workspace=workspace, interval=Interval.MONTH, start=MARCH_1)
    assert services.seats_sync(workspace=workspace, now=at(MARCH_1)) == 2
    seats = Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE)
    assert seats.count() == 2
    assert all(seat.coterm and seat.price_cents == 1_299 for seat in seats)
    assert not seats.filter(membership=owner).exists()
    assert not SeatCharge.objects.exists()  # the subscription's invoice billed them
    summary = selectors.seat_summary(workspace)
    assert (summary.licensed, summary.capacity) == (5, 5)
    assert services.seats_sync(workspace=workspace, now=at(MARCH_1)) == 0
    assert not Seat.objects.filter(workspace=other_workspace).exists()


def test_seats_sync_after_extra_seats_were_bought_ends_the_paid_seats_they_cover(
    workspace, owner, add_members
):
    # The row, which the test changes as billing does before it calls the sync under test.
    subscription = SubscriptionRowFactory(workspace=workspace, interval=Interval.MONTH, start=MARCH_1)
    add_members(2)
    with time_machine.travel(at(date(2026, 3, 3)), tick=False):
        join(workspace, owner, "x@team.test")
        join(workspace, owner, "y@team.test")
    assert Seat.objects.filter(status=SeatStatus.ACTIVE).count() == 2
    subscription.extra_seats = 1
    subscription.save()
    assert services.seats_sync(workspace=workspace, now=at(date(2026, 3, 3), 12)) == 1
    remaining = Seat.objects.get(status=SeatStatus.ACTIVE)
    assert remaining.user_email == "x@team.test"  # the newest paid seat ended
    # Its charge stays due: buying the extra seat cost nothing more because the
    # subscription counted that seat as billed (extra + co-termed seats: 2 before, 2 after).
    assert SeatCharge.objects.filter(status=ChargeStatus.PENDING).count() == 2
    assert not SeatCharge.objects.filter(status=ChargeStatus.CANCELED).exists()
    assert account_balance_cents(workspace) == 0
    assert selectors.coterm_paid_seat_count(workspace) == 1


def test_seats_sync_after_a_switch_to_annual_keeps_cotermed_seats_cotermed(workspace, owner, add_members):
    # The row, which the test changes as billing does before it calls the sync under test.
    subscription = SubscriptionRowFactory(workspace=workspace, interval=Interval.MONTH, start=MARCH_1)
    add_members(2)
    with time_machine.travel(at(date(2026, 3, 3)), tick=False):
        join(workspace, owner, "coterm@team.test")
    # Billing switched the subscription to annual on 10 March (and billed the seat with it).
    subscription.price = subscription.plan.prices.get(interval=Interval.YEAR)
    subscription.current_period_start = paris(2026, 3, 10)
    subscription.current_period_end = paris(2027, 3, 10)
    subscription.save()
    assert services.seats_sync(workspace=workspace, now=at(date(2026, 3, 10))) == 1
    seat = Seat.objects.get()
    assert (seat.interval, seat.coterm, seat.price_cents) == (Interval.YEAR, True, 8_999)
    assert seat.period_end == paris(2027, 3, 10)
    assert selectors.coterm_paid_seat_count(workspace) == 1
