"""Issue 6, acceptance 1: the three examples of seed 002, end to end, with time travel.

Members join through invitations (workspaces.services), the daily seat job
(billing.seat_sweeps.run_seat_sweeps) invoices and charges, removal goes through the members
service; amounts are checked to the cent against the proration rule and the invoice
totals rule.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from billing.seat_sweeps import run_seat_sweeps
from domain.money import round_half_up
from domain.periods import Interval
from invoices.models import AccountBalanceEntry, Invoice, InvoiceStatus
from invoices.selectors import account_balance_cents
from subscriptions.models import LocalCharge
from teams import selectors, services
from teams import services as membership_services
from teams.models import ChargeStatus, Seat, SeatCharge, SeatStatus
from tests.factories import SubscriptionRowFactory, UserFactory
from tests.teams.conftest import at
from workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db

PRO_YEAR_SEAT = 8_999
PRO_MONTH_SEAT = 1_299


def vat(cents: int) -> int:
    return round_half_up(cents * 2_000, 10_000)


def join(workspace, actor, email, role=Role.MEMBER) -> Membership:
    invitation = membership_services.invitation_create(
        workspace=workspace, actor=actor, email=email, role=role
    )
    return membership_services.invitation_accept(token=invitation.token, user=UserFactory(email=email))


def test_example_1_three_members_on_1_march_one_paid_seat_invoiced_2_march_for_10_months(
    workspace, owner, pro_annual, other_workspace
):
    # The row alone: the test proves that the other workspace has no invoice at all.
    SubscriptionRowFactory(workspace=other_workspace)
    with time_machine.travel(at(date(2026, 3, 1)), tick=False):
        for email in ("a@team.test", "b@team.test", "c@team.test"):
            join(workspace, owner, email)

    summary = selectors.seat_summary(workspace)
    assert (summary.licensed, summary.included, summary.paid, summary.capacity) == (4, 3, 1, 4)
    seat = Seat.objects.get(workspace=workspace)
    assert seat.user_email == "c@team.test"  # the first two are free
    assert (seat.interval, seat.coterm, seat.price_cents) == (Interval.YEAR, True, PRO_YEAR_SEAT)
    charge = SeatCharge.objects.get(seat=seat)
    expected = round_half_up(PRO_YEAR_SEAT * 10, 12)
    assert (charge.amount_cents, charge.remaining_units, charge.total_units) == (expected, 10, 12)

    # The day the members joined: nothing is invoiced yet.
    assert run_seat_sweeps(now=at(date(2026, 3, 1), 23))["seat_invoices"] == 0
    assert not Invoice.objects.exists()

    result = run_seat_sweeps(now=at(date(2026, 3, 2), 2))
    assert result["seat_invoices"] == 1
    assert result["seat_payments_succeeded"] == 1
    invoice = Invoice.objects.get(workspace=workspace)
    assert invoice.issued_at.date() == date(2026, 3, 2)
    assert invoice.source == f"seats:{workspace.pk}:2026-03-01"
    assert invoice.subtotal_cents == expected == 7_499
    assert invoice.total_cents == expected + vat(expected) == 8_999
    assert invoice.status == InvoiceStatus.PAID
    (line,) = invoice.lines.all()
    assert line.kind == "seat_proration"
    assert line.description == "Siège Pro — c@team.test, 10 of 12 months × 89,99\u00a0€"
    assert LocalCharge.objects.get(workspace=workspace).amount_cents == 8_999
    assert not Invoice.objects.filter(workspace=other_workspace).exists()


def test_example_2_monthly_seat_added_3_march_removed_18_march_credit_of_14_of_31_on_next_invoice(
    workspace, owner, add_members
):
    # The row alone: the seat's invoice is the workspace's only one.
    SubscriptionRowFactory(workspace=workspace, interval=Interval.MONTH, start=date(2026, 3, 1))
    add_members(2)  # owner + 2: the three included seats are taken
    with time_machine.travel(at(date(2026, 3, 3)), tick=False):
        member = join(workspace, owner, "march@team.test")
    run_seat_sweeps(now=at(date(2026, 3, 4), 2))
    first = Invoice.objects.get(workspace=workspace)
    assert first.subtotal_cents == round_half_up(PRO_MONTH_SEAT * 29, 31)

    with time_machine.travel(at(date(2026, 3, 18)), tick=False):
        preview = services.preview_member_removal(
            workspace=workspace, actor=owner, membership=member, now=at(date(2026, 3, 18))
        )
        membership_services.membership_remove(membership=member, actor=owner)

    credit = round_half_up(PRO_MONTH_SEAT * 14, 31)
    assert preview.credit_cents == credit == 587
    entry = AccountBalanceEntry.objects.get(workspace=workspace, source__startswith="seat-removal:")
    assert entry.amount_cents == credit
    assert account_balance_cents(workspace) == credit
    assert Seat.objects.get(workspace=workspace).status == SeatStatus.REMOVED

    # The next invoice (another member's seat, invoiced the day after) carries the credit.
    with time_machine.travel(at(date(2026, 3, 20)), tick=False):
        join(workspace, owner, "later@team.test")
    run_seat_sweeps(now=at(date(2026, 3, 21), 2))
    following = Invoice.objects.filter(workspace=workspace).exclude(pk=first.pk).get()
    charge = round_half_up(PRO_MONTH_SEAT * 12, 31)
    assert following.subtotal_cents == charge
    assert following.account_credit_applied_cents == credit
    assert following.amount_due_cents == charge + vat(charge) - credit
    assert account_balance_cents(workspace) == 0


def test_example_3_annual_seat_removed_in_june_credits_july_to_december(workspace, owner, pro_annual):
    with time_machine.travel(at(date(2026, 1, 10)), tick=False):
        for email in ("a@team.test", "b@team.test", "january@team.test"):
            join(workspace, owner, email)
    run_seat_sweeps(now=at(date(2026, 1, 11), 2))
    january = Membership.objects.get(workspace=workspace, user__email="january@team.test")
    seat = Seat.objects.get(membership=january)

    with time_machine.travel(at(date(2026, 6, 15)), tick=False):
        membership_services.membership_remove(membership=january, actor=owner)

    entry = AccountBalanceEntry.objects.get(workspace=workspace)
    assert entry.source == f"seat-removal:{seat.pk}"
    assert entry.amount_cents == round_half_up(PRO_YEAR_SEAT * 6, 12) == 4_500
    assert not Membership.objects.filter(pk=january.pk).exists()
    seat.refresh_from_db()
    assert (seat.status, seat.membership_id, seat.user_email) == (
        SeatStatus.REMOVED,
        None,
        "january@team.test",
    )
    assert SeatCharge.objects.get(seat=seat).status == ChargeStatus.INVOICED
