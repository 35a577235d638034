"""The daily seat job: idempotent (acceptance 4), renewals on each seat's own
anniversary, co-termed seats, seats ended on Free, the credit allowance."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from billing.seat_sweeps import run_seat_sweeps
from billing.services.renewals import renew_due_subscriptions
from domain.periods import Interval
from invoices.models import Charge, Invoice
from subscriptions.models import Subscription
from teams import selectors, services
from teams.models import ChargeKind, ChargeStatus, Seat, SeatCharge, SeatStatus
from tests.factories import (
    SubscriptionRowFactory,
)
from tests.teams.conftest import MARCH_1, PARIS, at, join
from workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db


# --- the daily job ---------------------------------------------------------------------------------


def test_acceptance_4_the_daily_job_run_twice_for_the_same_day_charges_each_seat_once(
    workspace, owner, pro_annual, add_members, other_workspace
):
    add_members(2)
    # The row alone: the test counts every invoice of that workspace.
    SubscriptionRowFactory(workspace=other_workspace)
    add_members(2, ws=other_workspace)
    other_owner = Membership.objects.get(workspace=other_workspace, role=Role.OWNER)
    with time_machine.travel(at(MARCH_1), tick=False):
        for email in ("s1@team.test", "s2@team.test", "s3@team.test"):
            join(workspace, owner, email)
        join(other_workspace, other_owner, "elsewhere@team.test")

    first = run_seat_sweeps(now=at(date(2026, 3, 2), 2))
    second = run_seat_sweeps(now=at(date(2026, 3, 2), 2))
    later = run_seat_sweeps(now=at(date(2026, 3, 2), 23))

    assert (first["seat_invoices"], second["seat_invoices"], later["seat_invoices"]) == (2, 0, 0)
    assert first["seat_payments_succeeded"] == 2
    assert second["seat_payments_succeeded"] == later["seat_payments_succeeded"] == 0
    invoice = Invoice.objects.get(workspace=workspace)
    assert invoice.lines.count() == 3  # three seat changes of one day: one invoice
    assert SeatCharge.objects.filter(workspace=workspace, status=ChargeStatus.INVOICED).count() == 3
    assert Charge.objects.filter(workspace=workspace).count() == 1
    assert Charge.objects.get(workspace=workspace).amount_cents == invoice.total_cents
    assert Invoice.objects.filter(workspace=other_workspace).count() == 1
    assert all(charge.seat.workspace_id == charge.workspace_id for charge in SeatCharge.objects.all())


def test_a_seat_on_its_own_interval_renews_on_its_anniversary_once(workspace, owner, pro_annual, add_members):
    add_members(2)
    with time_machine.travel(at(MARCH_1), tick=False):
        paid = join(workspace, owner, "weekly@team.test")
        services.seat_billing_period_set(
            workspace=workspace, actor=owner, membership=paid, interval=Interval.WEEK, now=at(MARCH_1)
        )
    run_seat_sweeps(now=at(date(2026, 3, 2)))
    run_seat_sweeps(now=at(date(2026, 3, 8), 1))
    run_seat_sweeps(now=at(date(2026, 3, 8), 3))
    renewal = SeatCharge.objects.get(kind=ChargeKind.RENEWAL)
    assert (renewal.amount_cents, renewal.day, renewal.status) == (
        499,
        date(2026, 3, 8),
        ChargeStatus.INVOICED,
    )
    assert renewal.invoice.source == f"seat-renewals:{workspace.pk}:2026-03-08"
    seat = Seat.objects.get()
    assert seat.period_end == datetime(2026, 3, 15, tzinfo=PARIS)
    assert Charge.objects.count() == 2  # the first week, then its renewal


def test_cotermed_seats_follow_the_subscription_into_its_next_period(
    workspace, owner, pro_annual, add_members
):
    add_members(2)
    with time_machine.travel(at(MARCH_1), tick=False):
        join(workspace, owner, "coterm@team.test")
    assert selectors.coterm_paid_seat_count(workspace) == 1
    # Billing renewed the subscription (and billed its co-termed seats with it).
    renew_due_subscriptions(now=at(date(2027, 1, 1), 0))
    run_seat_sweeps(now=at(date(2027, 1, 1), 5))
    seat = Seat.objects.get()
    # The period the row started (midnight UTC) ends at midnight in Paris.
    assert (seat.period_start, seat.period_end) == (
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2028, 1, 1, tzinfo=PARIS),
    )
    assert not SeatCharge.objects.filter(kind=ChargeKind.RENEWAL).exists()


def test_seats_end_unbilled_when_the_workspace_falls_back_to_free(workspace, owner, pro_annual, add_members):
    add_members(2)
    with time_machine.travel(at(MARCH_1), tick=False):
        join(workspace, owner, "gone@team.test")
    # Written directly: no service leaves a subscription expired (an expiry falls back to
    # Free and syncs the seats itself), but the job must end the seats of one that is.
    Subscription.objects.filter(workspace=workspace).update(status="expired")
    result = run_seat_sweeps(now=at(date(2026, 3, 2)))
    assert result["seats_ended"] == 1
    assert Seat.objects.get().status == SeatStatus.REMOVED
    assert not Invoice.objects.exists()


def test_seat_changes_reach_the_credit_allowance_at_the_next_reset(workspace, owner, pro_annual, add_members):
    from credits.selectors import credit_summary
    from credits.services import allowance_ensure_current
    from credits.sweeps import run_credit_sweeps

    add_members(2)
    allowance_ensure_current(workspace=workspace, now=at(MARCH_1, 1))
    assert credit_summary(workspace, now=at(MARCH_1, 2)).allowance == 300
    with time_machine.travel(at(date(2026, 3, 10)), tick=False):
        join(workspace, owner, "new@team.test")
    assert credit_summary(workspace, now=at(date(2026, 3, 10), 10)).allowance == 300
    run_credit_sweeps(now=at(date(2026, 4, 1), 1))
    assert credit_summary(workspace, now=at(date(2026, 4, 1), 2)).allowance == 400
