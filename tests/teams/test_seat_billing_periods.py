"""A billing period per member: weekly, monthly or annual seats
(docs/rules/proration.md#seat-billing-periods)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from billing.seat_sweeps import run_seat_sweeps
from domain.periods import Interval
from invoices.selectors import account_balance_cents
from subscriptions.models import Channel
from teams import errors, selectors, services
from teams.models import ChargeKind, ChargeStatus, SeatCharge
from tests.factories import (
    SubscriptionRowFactory,
    subscribe,
)
from tests.teams.conftest import MARCH_1, PARIS, at, french, join, snapshot

pytestmark = pytest.mark.django_db


# --- billing period per member -------------------------------------------------------------------


def test_weekly_billing_for_a_seat_not_invoiced_yet_replans_it(workspace, owner, pro_annual, add_members):
    add_members(2)
    with time_machine.travel(at(MARCH_1), tick=False):
        paid = join(workspace, owner, "weekly@team.test")
        seat = services.seat_billing_period_set(
            workspace=workspace, actor=owner, membership=paid, interval=Interval.WEEK, now=at(MARCH_1, 10)
        )
    assert (seat.interval, seat.coterm, seat.price_cents) == (Interval.WEEK, False, 499)
    assert (seat.period_start, seat.period_end) == (
        datetime(2026, 3, 1, tzinfo=PARIS),
        datetime(2026, 3, 8, tzinfo=PARIS),
    )
    pending = SeatCharge.objects.get(status=ChargeStatus.PENDING)
    assert pending.amount_cents == 499
    # The annual charge it replaces: 89,99 € × 10/12 = 74,991… → 74,99 €
    assert SeatCharge.objects.get(status=ChargeStatus.CANCELED).amount_cents == 7_499
    assert selectors.coterm_paid_seat_count(workspace) == 0


def test_changing_the_period_of_an_invoiced_seat_credits_the_unused_time(
    workspace, owner, pro_annual, add_members
):
    add_members(2)
    with time_machine.travel(at(MARCH_1), tick=False):
        paid = join(workspace, owner, "monthly@team.test")
    run_seat_sweeps(now=at(date(2026, 3, 2)))
    when = at(date(2026, 4, 15))
    seat = services.seat_billing_period_set(
        workspace=workspace, actor=owner, membership=paid, interval=Interval.MONTH, now=when
    )
    # docs/rules/proration.md#changing-a-seats-period: April, the current month, is paid
    # already; the change waits for it to end.
    assert (seat.interval, seat.pending_interval, seat.pending_at) == (
        Interval.YEAR,
        Interval.MONTH,
        datetime(2026, 5, 1, tzinfo=PARIS),
    )
    assert account_balance_cents(workspace) == 0
    assert not SeatCharge.objects.filter(kind=ChargeKind.PERIOD_CHANGE).exists()
    run_seat_sweeps(now=at(date(2026, 5, 1), 1))
    seat.refresh_from_db()
    assert (seat.interval, seat.coterm, seat.anchor_date) == (Interval.MONTH, False, date(2026, 5, 1))
    # May to December, 8 of 12 months × 89,99 € = 59,99 € HT, + VAT 12,00 € = 71,99 €.
    assert account_balance_cents(workspace) == 7_199
    change = SeatCharge.objects.get(kind=ChargeKind.PERIOD_CHANGE)
    assert (change.amount_cents, change.status) == (1_299, ChargeStatus.PENDING)


def test_a_period_the_plan_does_not_sell_is_refused(workspace, owner, add_members):
    subscribe(workspace, plan="team-starter", interval=Interval.MONTH, now=at(MARCH_1))
    add_members(4)
    with time_machine.travel(at(MARCH_1), tick=False):
        paid = join(workspace, owner, "sixth@team.test")
    before = snapshot(workspace)
    with pytest.raises(errors.SeatPeriodUnavailable) as refused:
        services.seat_billing_period_set(
            workspace=workspace, actor=owner, membership=paid, interval=Interval.WEEK, now=at(MARCH_1)
        )
    assert french(refused.value.message) == (
        "Le plan Team Starter n’a pas de tarif hebdomadaire : choisissez une autre période de facturation."
    )
    assert snapshot(workspace) == before


def test_periods_per_member_are_refused_on_mobile(workspace, owner, add_members):
    # Bought in the app stores: no web purchase to go through.
    SubscriptionRowFactory(workspace=workspace, channel=Channel.MOBILE)
    (member,) = add_members(1)
    with pytest.raises(errors.SeatPeriodMobile):
        services.seat_billing_period_set(
            workspace=workspace, actor=owner, membership=member, interval=Interval.WEEK, now=at(MARCH_1)
        )


def test_an_included_member_has_no_period_of_their_own(workspace, owner, member, pro_annual):
    with pytest.raises(errors.NoPaidSeat):
        services.seat_billing_period_set(
            workspace=workspace, actor=owner, membership=member, interval=Interval.WEEK, now=at(MARCH_1)
        )
