"""Seats through the services: extra seats, releases, re-adds, a member's own plan,
tenant isolation (docs/rules/plans.md#seats, docs/rules/proration.md)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from billing.seat_sweeps import run_seat_sweeps
from domain.periods import Interval
from invoices.models import AccountBalanceEntry, Charge, Invoice
from invoices.selectors import account_balance_cents
from teams import errors, selectors, services
from teams import services as membership_services
from teams.models import ChargeKind, ChargeStatus, Seat, SeatCharge, SeatStatus
from tests.factories import (
    MembershipFactory,
    SubscriptionRowFactory,
    UserFactory,
    WorkspaceFactory,
    subscribe,
)
from tests.teams.conftest import MARCH_1, at, join, snapshot
from workspaces import errors as workspace_errors
from workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db


# --- seats ------------------------------------------------------------------------------------


def test_free_teams_have_free_seats_up_to_50(workspace, owner, add_members):
    add_members(10)
    summary = selectors.seat_summary(workspace)
    assert (summary.licensed, summary.paid, summary.capacity, summary.max_members) == (11, 0, 50, 50)
    join(workspace, owner, "free@team.test")
    assert not Seat.objects.exists()


def test_extra_seats_bought_in_advance_are_filled_before_a_paid_seat(workspace, owner, add_members):
    subscribe(workspace, plan="team-starter", interval=Interval.MONTH, now=at(MARCH_1), extra_seats=2)
    add_members(4)  # 5 included seats taken
    with time_machine.travel(at(date(2026, 3, 5)), tick=False):
        join(workspace, owner, "sixth@team.test")
        join(workspace, owner, "seventh@team.test")
        assert not Seat.objects.exists()
        eighth = join(workspace, owner, "eighth@team.test")
    seat = Seat.objects.get()
    assert seat.membership == eighth
    assert seat.price_cents == 1_500
    summary = selectors.seat_summary(workspace)
    assert (summary.licensed, summary.included, summary.extra_capacity, summary.paid) == (8, 5, 2, 1)
    assert summary.capacity == 8


def test_seat_summary_reads_in_a_constant_number_of_queries(
    workspace, pro_annual, add_members, django_assert_max_num_queries
):
    add_members(30)
    with django_assert_max_num_queries(3):
        assert selectors.seat_summary(workspace).licensed == 31


def test_removing_an_included_member_ends_the_newest_paid_seat_and_credits_it(workspace, owner, pro_annual):
    with time_machine.travel(at(MARCH_1), tick=False):
        first = join(workspace, owner, "a@team.test")
        join(workspace, owner, "b@team.test")
        paid = join(workspace, owner, "c@team.test")
    run_seat_sweeps(now=at(date(2026, 3, 2)))
    seat = Seat.objects.get(membership=paid)

    june = at(date(2026, 6, 10))
    preview = services.preview_member_removal(workspace=workspace, actor=owner, membership=first, now=june)
    (release,) = preview.releases
    assert (release.seat, release.own_seat, release.holder_email) == (seat, False, "c@team.test")
    services.member_remove(workspace=workspace, actor=owner, membership=first, now=june)

    seat.refresh_from_db()
    assert seat.status == SeatStatus.REMOVED
    assert Membership.objects.filter(pk=paid.pk, role=Role.MEMBER).exists()  # still a member, now included
    # July to December: 89,99 € × 6/12 = 44,995 € → 45,00 € HT, + VAT 9,00 € = 54,00 €
    assert account_balance_cents(workspace) == preview.credit_cents == 5_400
    summary = selectors.seat_summary(workspace)
    assert (summary.licensed, summary.paid, summary.capacity) == (3, 0, 3)


def test_a_member_made_guest_releases_their_paid_seat(workspace, owner, pro_annual, add_members):
    add_members(2)
    with time_machine.travel(at(MARCH_1), tick=False):
        paid = join(workspace, owner, "paid@team.test")
    run_seat_sweeps(now=at(date(2026, 3, 2)))
    membership_services.membership_change_role(
        membership=paid, actor=owner, role=Role.GUEST, now=at(date(2026, 9, 3))
    )
    assert Seat.objects.get().status == SeatStatus.REMOVED
    # October to December: 89,99 € × 3/12 = 22,4975 € → 22,50 € HT, + VAT 4,50 € = 27,00 €
    assert account_balance_cents(workspace) == 2_700


def test_preview_is_what_removal_credits_to_the_cent(workspace, owner, add_members):
    subscribe(workspace, plan="pro", interval=Interval.MONTH, now=at(MARCH_1))
    add_members(2)
    with time_machine.travel(at(date(2026, 3, 3)), tick=False):
        paid = join(workspace, owner, "m@team.test")
    run_seat_sweeps(now=at(date(2026, 3, 4)))
    when = at(date(2026, 3, 23))
    preview = services.preview_member_removal(workspace=workspace, actor=owner, membership=paid, now=when)
    done = services.member_remove(workspace=workspace, actor=owner, membership=paid, now=when)
    entry = AccountBalanceEntry.objects.get(workspace=workspace)
    # 23 to 31 March: 12,99 € × 9/31 = 3,771… → 3,77 € HT, + VAT 0,754 → 0,75 € = 4,52 €
    assert preview.credit_cents == done.credit_cents == entry.amount_cents == 452
    assert preview.releases[0].credit.describe() == "9 of 31 days"


def test_removal_before_the_daily_job_cancels_the_pending_charge_instead_of_charging_then_crediting(
    workspace, owner, add_members
):
    # The row alone: the test proves that no invoice exists at all.
    SubscriptionRowFactory(workspace=workspace, interval=Interval.MONTH, start=MARCH_1)
    add_members(2)
    with time_machine.travel(at(date(2026, 3, 3)), tick=False):
        paid = join(workspace, owner, "brief@team.test")
    preview = services.preview_member_removal(
        workspace=workspace, actor=owner, membership=paid, now=at(date(2026, 3, 3), 17)
    )
    # The pending charge, 12,99 € × 29/31 = 12,152… → 12,15 €, is cancelled: nothing to credit.
    assert (preview.credit_cents, preview.netted_cents) == (0, 1_215)
    services.member_remove(workspace=workspace, actor=owner, membership=paid, now=at(date(2026, 3, 3), 17))
    assert SeatCharge.objects.get().status == ChargeStatus.CANCELED
    run_seat_sweeps(now=at(date(2026, 3, 4)))
    assert not Invoice.objects.exists()
    assert account_balance_cents(workspace) == 0


def test_readding_the_same_person_the_same_day_does_not_double_charge(
    workspace, owner, pro_annual, add_members
):
    add_members(2)
    day = at(MARCH_1)
    with time_machine.travel(day, tick=False):
        first = join(workspace, owner, "back@team.test")
        services.member_remove(workspace=workspace, actor=owner, membership=first, now=day)
        user = first.user
        again = membership_services.invitation_accept(
            token=membership_services.invitation_create(
                workspace=workspace, actor=owner, email=user.email, role=Role.MEMBER
            ).token,
            user=user,
        )
    assert Seat.objects.count() == 1
    seat = Seat.objects.get()
    assert (seat.membership, seat.status) == (again, SeatStatus.ACTIVE)
    charge = SeatCharge.objects.get()
    # March to December: 89,99 € × 10/12 = 74,991… → 74,99 €, charged once
    assert (charge.status, charge.amount_cents) == (ChargeStatus.PENDING, 7_499)
    run_seat_sweeps(now=at(date(2026, 3, 2)))
    assert Invoice.objects.get().subtotal_cents == 7_499
    assert Charge.objects.count() == 1


def test_readding_after_a_credited_removal_the_same_day_takes_the_credit_back(
    workspace, owner, pro_annual, add_members
):
    add_members(2)
    with time_machine.travel(at(MARCH_1), tick=False):
        first = join(workspace, owner, "back@team.test")
    run_seat_sweeps(now=at(date(2026, 3, 2)))
    june = at(date(2026, 6, 10))
    with time_machine.travel(june, tick=False):
        services.member_remove(workspace=workspace, actor=owner, membership=first, now=june)
        # July to December: 89,99 € × 6/12 = 44,995 € → 45,00 € HT, + VAT 9,00 € = 54,00 €
        assert account_balance_cents(workspace) == 5_400
        services.member_add(workspace=workspace, actor=owner, user=first.user, role=Role.MEMBER, now=june)
    assert Seat.objects.count() == 1
    readded = SeatCharge.objects.get(kind=ChargeKind.READDED)
    assert readded.amount_cents == 4_500  # the credit before VAT is due again
    run_seat_sweeps(now=at(date(2026, 6, 11)))
    invoice = Invoice.objects.filter(source__endswith="2026-06-10").get()
    # The credit pays the re-added seat back to the cent: 45,00 € + VAT 9,00 € = 54,00 €,
    # all of it from the 54,00 € credited; nothing is charged twice.
    assert (invoice.subtotal_cents, invoice.vat_cents, invoice.total_cents) == (4_500, 900, 5_400)
    assert (invoice.account_credit_applied_cents, invoice.amount_due_cents) == (5_400, 0)
    assert account_balance_cents(workspace) == 0


def test_a_members_own_personal_plan_is_never_billed_by_the_team(workspace, owner, pro_annual, add_members):
    add_members(2)
    personal = WorkspaceFactory(name="Personal")
    joiner = UserFactory(email="solo@team.test")
    MembershipFactory(workspace=personal, user=joiner, role=Role.OWNER)
    # The row alone: the test proves that the personal workspace has no invoice at all.
    SubscriptionRowFactory(workspace=personal, start=date(2026, 1, 1))
    with time_machine.travel(at(MARCH_1), tick=False):
        invitation = membership_services.invitation_create(
            workspace=workspace, actor=owner, email=joiner.email, role=Role.MEMBER
        )
        membership_services.invitation_accept(token=invitation.token, user=joiner)
    run_seat_sweeps(now=at(date(2026, 3, 2)))
    assert Invoice.objects.filter(workspace=workspace).count() == 1
    assert not Invoice.objects.filter(workspace=personal).exists()
    assert not Charge.objects.filter(workspace=personal).exists()
    assert not SeatCharge.objects.filter(workspace=personal).exists()


# --- tenancy -----------------------------------------------------------------------------------------


def test_seat_services_stay_inside_their_workspace(workspace, owner, pro_annual, other_workspace):
    subscribe(other_workspace, plan="pro", interval=Interval.YEAR, now=at(date(2026, 1, 1)))
    outsider = Membership.objects.filter(workspace=other_workspace, role=Role.MEMBER).first()
    before = snapshot(other_workspace)
    with pytest.raises((Membership.DoesNotExist, workspace_errors.PermissionDenied)):
        services.member_remove(workspace=workspace, actor=owner, membership=outsider, now=at(MARCH_1))
    with pytest.raises(workspace_errors.PermissionDenied):
        services.preview_member_removal(
            workspace=workspace, actor=owner, membership=outsider, now=at(MARCH_1)
        )
    with pytest.raises(errors.NoPaidSeat):
        services.seat_billing_period_set(
            workspace=workspace, actor=owner, membership=outsider, interval=Interval.WEEK, now=at(MARCH_1)
        )
    with pytest.raises(workspace_errors.PermissionDenied):
        services.member_remove(workspace=other_workspace, actor=owner, membership=outsider, now=at(MARCH_1))
    assert snapshot(other_workspace) == before
    assert selectors.seat_summary(other_workspace).licensed == 2
    assert selectors.seat_summary(workspace).licensed == 1
