"""Billing days are read in the workspace's billing time zone
(docs/rules/billing-calendar.md#billing-time-zone), by default Europe/Paris.

Every figure is written out by hand from docs/rules/proration.md: Paris is UTC+1 until
29 March 2026 and UTC+2 after; New York is UTC-4 from 8 March 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from billing.seat_sweeps import run_seat_sweeps
from billing.services.billing_time_zone import billing_time_zone_change
from billing.sweeps import run_billing_sweeps
from credits import allowances, services
from credits.models import CreditBalance, CreditGrant
from invoices.models import Invoice
from subscriptions.models import Subscription
from teams import services as team_services
from teams.models import Seat, SeatCharge
from tests.factories import MembershipFactory, SubscriptionRowFactory
from tests.teams.conftest import join
from workspaces.models import Role, Workspace

pytestmark = pytest.mark.django_db


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _at(moment: datetime) -> time_machine.travel:
    return time_machine.travel(moment, tick=False)


def charge_of(email: str) -> SeatCharge:
    return SeatCharge.objects.get(seat__user_email=email)


def test_the_new_workspace_reads_its_billing_days_in_paris(workspace):
    assert Workspace.objects.get(pk=workspace.pk).billing_time_zone == "Europe/Paris"


def test_a_member_added_at_00_30_in_paris_on_1_march_is_charged_10_months_on_2_march(workspace, owner):
    # docs/rules/billing-calendar.md#example-just-after-midnight. Pro annual from
    # 1 January 2026; the row alone, so that the only invoice is the seat's.
    SubscriptionRowFactory(workspace=workspace)
    # 1 March 2026 at 00:30 in Paris is 28 February at 23:30 UTC.
    join_at = utc(2026, 2, 28, 23, 30)
    for email in ("a@team.test", "b@team.test", "c@team.test"):
        with _at(join_at):
            join(workspace, owner, email)

    charge = charge_of("c@team.test")
    assert charge.day == date(2026, 3, 1)
    # 89,99 € × 10/12 = 74,991… → 74,99 € (read in UTC: 11/12 = 82,49 €).
    assert (charge.remaining_units, charge.total_units, charge.amount_cents) == (10, 12, 7_499)

    # 1 March at 23:30 in Paris (22:30 UTC): still the day of the change, nothing invoiced.
    assert run_seat_sweeps(now=utc(2026, 3, 1, 22, 30))["seat_invoices"] == 0
    # 2 March at 00:30 in Paris (1 March, 23:30 UTC): the day after, invoiced and charged.
    assert run_seat_sweeps(now=utc(2026, 3, 1, 23, 30))["seat_invoices"] == 1
    invoice = Invoice.objects.get(workspace=workspace)
    assert invoice.source == f"seats:{workspace.pk}:2026-03-01"
    assert (invoice.subtotal_cents, invoice.total_cents) == (7_499, 8_999)


def test_a_monthly_seat_added_after_midnight_in_paris_counts_the_paris_day(workspace, owner):
    # docs/rules/proration.md#example-2-monthly-seat-removed: Pro monthly, 1 March to
    # 1 April (31 days); the owner and two members fill the three included seats.
    SubscriptionRowFactory(workspace=workspace, interval="month", start=date(2026, 3, 1))
    with _at(utc(2026, 3, 1, 9)):
        join(workspace, owner, "a@team.test")
        join(workspace, owner, "b@team.test")
    # 3 March at 00:30 in Paris is 2 March at 23:30 UTC.
    with _at(utc(2026, 3, 2, 23, 30)):
        join(workspace, owner, "c@team.test")

    charge = charge_of("c@team.test")
    assert charge.day == date(2026, 3, 3)
    # 12,99 € × 29/31 = 12,152… → 12,15 € (read in UTC: 30/31 = 12,57 €).
    assert (charge.remaining_units, charge.total_units, charge.amount_cents) == (29, 31, 1_215)


def test_a_calendar_credit_period_resets_at_midnight_in_paris_on_the_1st(workspace):
    # Free resets on the 1st of each month (docs/rules/billing-calendar.md#credit-periods).
    services.allowance_ensure_current(workspace=workspace, now=utc(2026, 1, 15, 9))
    balance = CreditBalance.objects.get(workspace=workspace)
    assert (balance.period_start, balance.period_end) == (date(2026, 1, 1), date(2026, 2, 1))
    grant = CreditGrant.objects.get(workspace=workspace, bucket="plan_allowance")
    # Midnight of 1 February in Paris is 31 January, 23:00 UTC.
    assert grant.expires_at == utc(2026, 1, 31, 23)

    # 31 January at 23:30 in Paris (22:30 UTC): the January period goes on.
    assert allowances.allowances_reset(now=utc(2026, 1, 31, 22, 30)) == 0
    # 1 February at 00:30 in Paris (31 January, 23:30 UTC): the February period.
    assert allowances.allowances_reset(now=utc(2026, 1, 31, 23, 30)) == 1
    balance.refresh_from_db()
    assert (balance.period_start, balance.period_end) == (date(2026, 2, 1), date(2026, 3, 1))
    new_grant = CreditGrant.objects.get(workspace=workspace, bucket="plan_allowance", expired_at=None)
    assert new_grant.expires_at == utc(2026, 2, 28, 23)


def test_a_zone_chosen_by_an_admin_applies_from_the_next_period(workspace, owner):
    # Pro monthly, 1 March to 1 April; the owner, the admin and one member fill the three
    # included seats.
    SubscriptionRowFactory(workspace=workspace, interval="month", start=date(2026, 3, 1))
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN)
    with _at(utc(2026, 3, 1, 9)):
        join(workspace, owner, "a@team.test")

    billing_time_zone_change(
        workspace=workspace, actor=admin, zone="America/New_York", now=utc(2026, 3, 10, 9)
    )
    workspace.refresh_from_db()
    assert workspace.billing_time_zone == "Europe/Paris"
    assert workspace.billing_time_zone_next == "America/New_York"
    assert workspace.billing_time_zone_next_at == utc(2026, 4, 1)

    # The current period is still read in Paris: 15 March at 00:30 in Paris (14 March,
    # 23:30 UTC; 19:30 in New York) is 15 March, 17 of 31 days: 12,99 € × 17/31 =
    # 7,123… → 7,12 € (read in New York: 18/31 = 7,54 €).
    with _at(utc(2026, 3, 14, 23, 30)):
        join(workspace, owner, "b@team.test")
    march = charge_of("b@team.test")
    assert (march.day, march.remaining_units, march.total_units, march.amount_cents) == (
        date(2026, 3, 15),
        17,
        31,
        712,
    )

    # 1 April at 00:00 in New York is 04:00 UTC: the next period starts there, in New York.
    run_billing_sweeps(now=utc(2026, 4, 1, 5), charge_inline=True)
    workspace.refresh_from_db()
    assert (workspace.billing_time_zone, workspace.billing_time_zone_next) == ("America/New_York", "")
    assert workspace.billing_time_zone_next_at is None
    subscription = Subscription.objects.get(workspace=workspace)
    assert (subscription.current_period_start, subscription.current_period_end) == (
        utc(2026, 4, 1, 4),
        utc(2026, 5, 1, 4),
    )

    # 15 April at 00:30 in Paris (14 April, 22:30 UTC) is 14 April in New York: 17 of
    # 30 days, 12,99 € × 17/30 = 7,361 → 7,36 € (read in Paris: 16/30 = 6,93 €).
    with _at(utc(2026, 4, 14, 22, 30)):
        join(workspace, owner, "c@team.test")
    april = charge_of("c@team.test")
    assert (april.day, april.remaining_units, april.total_units, april.amount_cents) == (
        date(2026, 4, 14),
        17,
        30,
        736,
    )


def test_a_zone_change_keeps_the_days_of_the_periods_running_across_it(workspace, owner):
    # Pro monthly, 1 March to 1 April; the owner and two members fill the included seats.
    SubscriptionRowFactory(workspace=workspace, interval="month", start=date(2026, 3, 1))
    with _at(utc(2026, 3, 1, 9)):
        join(workspace, owner, "a@team.test")
        join(workspace, owner, "b@team.test")
    # A paid seat billed weekly from 27 March: its week runs to 3 April, in Paris.
    with _at(utc(2026, 3, 27, 10)):
        paid = join(workspace, owner, "weekly@team.test")
        team_services.seat_billing_period_set(
            workspace=workspace, actor=owner, membership=paid, interval="week", now=utc(2026, 3, 27, 10)
        )
    services.allowance_ensure_current(workspace=workspace, now=utc(2026, 3, 27, 10))
    billing_time_zone_change(
        workspace=workspace, actor=owner, zone="America/New_York", now=utc(2026, 3, 28, 9)
    )

    run_billing_sweeps(now=utc(2026, 4, 1, 5), charge_inline=True)

    # The week keeps its days: 27 March to 3 April, now midnights in New York (UTC-4).
    seat = Seat.objects.get(user_email="weekly@team.test")
    assert (seat.period_start, seat.period_end) == (utc(2026, 3, 27, 4), utc(2026, 4, 3, 4))
    # So does the credit period (Pro resets on the renewal day, the 1st): its allowance
    # expires at midnight, 1 April, in New York.
    grant = CreditGrant.objects.get(workspace=workspace, bucket="plan_allowance", expired_at=None)
    assert (grant.period_end, grant.expires_at) == (date(2026, 4, 1), utc(2026, 4, 1, 4))
    # Removed on 2 April at 20:00 UTC (16:00 in New York), the seat gives back 2 April,
    # 1 of 7 days: 4,99 € × 1/7 = 0,712… → 0,71 €.
    preview = team_services.preview_member_removal(
        workspace=workspace, actor=owner, membership=paid, now=utc(2026, 4, 2, 20)
    )
    assert preview.total_credit_cents == 71
