"""Seat rules through the services: caps (acceptance 2), re-adds, releases, billing
periods, renewals, the daily job's idempotency (acceptance 4), tenant isolation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.utils import translation

from billing.seat_sweeps import run_seat_sweeps
from domain.money import round_half_up
from domain.periods import Interval
from invoices.models import AccountBalanceEntry, Invoice
from invoices.selectors import account_balance_cents
from subscriptions.models import Channel, LocalCharge, Subscription
from teams import errors, selectors, services
from teams import services as membership_services
from teams.models import ChargeKind, ChargeStatus, Seat, SeatCharge, SeatStatus
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.teams.conftest import at, subscribe
from workspaces import errors as workspace_errors
from workspaces.models import Invitation, Membership, Role

pytestmark = pytest.mark.django_db

MARCH_1 = date(2026, 3, 1)


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


# --- acceptance 2: each refusal with its message, nothing changed ---------------------------


def test_the_51st_member_is_refused_with_the_contact_sales_message(workspace, owner, pro_annual, add_members):
    add_members(49)  # owner + 49 = 50 members holding a seat
    before = snapshot(workspace)
    with translation.override("fr"), pytest.raises(errors.MemberLimitReached) as refused:
        membership_services.invitation_create(
            workspace=workspace, actor=owner, email="fifty-one@team.test", role=Role.MEMBER
        )
    assert str(refused.value.message) == (
        "Cette équipe a atteint sa limite de 50 membres. "
        "Contactez notre équipe commerciale si vous avez besoin de plus de membres."
    )
    assert snapshot(workspace) == before


def test_pending_invitations_count_toward_the_cap_and_acceptance_checks_it_again(
    workspace, owner, pro_annual, add_members
):
    add_members(48)
    early = membership_services.invitation_create(
        workspace=workspace, actor=owner, email="early@team.test", role=Role.MEMBER
    )
    with pytest.raises(errors.MemberLimitReached):
        membership_services.invitation_create(
            workspace=workspace, actor=owner, email="late@team.test", role=Role.MEMBER
        )
    # Someone else filled the 50th seat in the meantime: the early invitation cannot be used.
    add_members(1)
    before = snapshot(workspace)
    with pytest.raises(errors.MemberLimitReached):
        membership_services.invitation_accept(token=early.token, user=UserFactory(email="early@team.test"))
    assert snapshot(workspace) == before


def test_guests_take_no_seat_so_a_full_team_can_still_invite_a_guest(
    workspace, owner, pro_annual, add_members
):
    add_members(49)
    guest = join(workspace, owner, "visitor@team.test", role=Role.GUEST)
    assert guest.role == Role.GUEST
    assert selectors.seat_summary(workspace).licensed == 50
    assert not Seat.objects.filter(membership=guest).exists()


def test_a_4th_member_on_a_mobile_subscription_is_refused(workspace, owner, add_members):
    subscribe(workspace, channel=Channel.MOBILE)
    add_members(2)
    before = snapshot(workspace)
    with pytest.raises(errors.MobileMemberLimit) as refused:
        membership_services.invitation_create(
            workspace=workspace, actor=owner, email="fourth@team.test", role="member"
        )
    assert french(refused.value.message) == (
        "Un abonnement souscrit sur mobile est limité à 3 membres (l’administrateur et 2 autres personnes). "
        "Pour ajouter plus de membres, passez à un abonnement web."
    )
    assert snapshot(workspace) == before
    assert selectors.seat_summary(workspace).max_members == 3


def test_a_guest_taking_a_seat_follows_the_cap(workspace, owner, add_members):
    subscribe(workspace, channel=Channel.MOBILE)
    add_members(2)
    (guest,) = add_members(1, role=Role.GUEST)
    before = snapshot(workspace)
    with pytest.raises(errors.MobileMemberLimit):
        membership_services.membership_change_role(membership=guest, actor=owner, role=Role.MEMBER)
    guest.refresh_from_db()
    assert guest.role == Role.GUEST
    assert snapshot(workspace) == before


def test_a_guest_taking_a_seat_beyond_the_included_ones_gets_a_paid_seat(
    workspace, owner, pro_annual, add_members
):
    add_members(2)
    (guest,) = add_members(1, role=Role.GUEST)
    with time_machine.travel(at(MARCH_1), tick=False):
        membership_services.membership_change_role(membership=guest, actor=owner, role=Role.MEMBER)
    seat = Seat.objects.get(membership=guest)
    assert SeatCharge.objects.get(seat=seat).amount_cents == round_half_up(8_999 * 10, 12)


def test_a_member_cannot_remove_another_member(workspace, owner, member, pro_annual, add_members):
    (other,) = add_members(1)
    before = snapshot(workspace)
    with pytest.raises(workspace_errors.PermissionDenied) as refused:
        services.member_remove(workspace=workspace, actor=member, membership=other, now=at(MARCH_1))
    assert french(refused.value.message) == (
        "Seuls le propriétaire et les administrateurs de l’espace de travail peuvent inviter, supprimer ou modifier "
        "des membres."
    )
    assert snapshot(workspace) == before


def test_the_owner_cannot_be_removed(workspace, owner, admin, pro_annual):
    before = snapshot(workspace)
    with pytest.raises(workspace_errors.OwnerCannotBeChanged):
        services.member_remove(workspace=workspace, actor=admin, membership=owner, now=at(MARCH_1))
    with pytest.raises(workspace_errors.OwnerCannotBeChanged):
        services.preview_member_removal(workspace=workspace, actor=admin, membership=owner, now=at(MARCH_1))
    assert snapshot(workspace) == before


# --- seats ------------------------------------------------------------------------------------


def test_free_teams_have_free_seats_up_to_50(workspace, owner, add_members):
    add_members(10)
    summary = selectors.seat_summary(workspace)
    assert (summary.licensed, summary.paid, summary.capacity, summary.max_members) == (11, 0, 50, 50)
    join(workspace, owner, "free@team.test")
    assert not Seat.objects.exists()


def test_extra_seats_bought_in_advance_are_filled_before_a_paid_seat(workspace, owner, add_members):
    subscribe(workspace, plan="team-starter", interval=Interval.MONTH, start=MARCH_1, extra_seats=2)
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
    assert account_balance_cents(workspace) == preview.credit_cents == round_half_up(8_999 * 6, 12)
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
    assert account_balance_cents(workspace) == round_half_up(8_999 * 3, 12)  # October to December


def test_preview_is_what_removal_credits_to_the_cent(workspace, owner, add_members):
    subscribe(workspace, interval=Interval.MONTH, start=MARCH_1)
    add_members(2)
    with time_machine.travel(at(date(2026, 3, 3)), tick=False):
        paid = join(workspace, owner, "m@team.test")
    run_seat_sweeps(now=at(date(2026, 3, 4)))
    when = at(date(2026, 3, 23))
    preview = services.preview_member_removal(workspace=workspace, actor=owner, membership=paid, now=when)
    done = services.member_remove(workspace=workspace, actor=owner, membership=paid, now=when)
    entry = AccountBalanceEntry.objects.get(workspace=workspace)
    assert preview.credit_cents == done.credit_cents == entry.amount_cents == round_half_up(1_299 * 9, 31)
    assert preview.releases[0].credit.describe() == "9 of 31 days"


def test_removal_before_the_daily_job_cancels_the_pending_charge_instead_of_charging_then_crediting(
    workspace, owner, add_members
):
    subscribe(workspace, interval=Interval.MONTH, start=MARCH_1)
    add_members(2)
    with time_machine.travel(at(date(2026, 3, 3)), tick=False):
        paid = join(workspace, owner, "brief@team.test")
    preview = services.preview_member_removal(
        workspace=workspace, actor=owner, membership=paid, now=at(date(2026, 3, 3), 17)
    )
    assert (preview.credit_cents, preview.netted_cents) == (0, round_half_up(1_299 * 29, 31))
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
    assert (charge.status, charge.amount_cents) == (ChargeStatus.PENDING, round_half_up(8_999 * 10, 12))
    run_seat_sweeps(now=at(date(2026, 3, 2)))
    assert Invoice.objects.get().subtotal_cents == round_half_up(8_999 * 10, 12)
    assert LocalCharge.objects.count() == 1


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
        credit = account_balance_cents(workspace)
        assert credit == round_half_up(8_999 * 6, 12)
        services.member_add(workspace=workspace, actor=owner, user=first.user, role=Role.MEMBER, now=june)
    assert Seat.objects.count() == 1
    readded = SeatCharge.objects.get(kind=ChargeKind.READDED)
    assert readded.amount_cents == credit
    run_seat_sweeps(now=at(date(2026, 6, 11)))
    invoice = Invoice.objects.filter(source__endswith="2026-06-10").get()
    # The credit pays the re-added seat back: nothing is charged twice.
    assert invoice.subtotal_cents == credit
    assert invoice.account_credit_applied_cents == credit
    assert invoice.amount_due_cents == round_half_up(credit * 2_000, 10_000)


def test_a_members_own_personal_plan_is_never_billed_by_the_team(workspace, owner, pro_annual, add_members):
    add_members(2)
    personal = WorkspaceFactory(name="Personal")
    joiner = UserFactory(email="solo@team.test")
    MembershipFactory(workspace=personal, user=joiner, role=Role.OWNER)
    subscribe(personal, start=date(2026, 1, 1))
    with time_machine.travel(at(MARCH_1), tick=False):
        invitation = membership_services.invitation_create(
            workspace=workspace, actor=owner, email=joiner.email, role=Role.MEMBER
        )
        membership_services.invitation_accept(token=invitation.token, user=joiner)
    run_seat_sweeps(now=at(date(2026, 3, 2)))
    assert Invoice.objects.filter(workspace=workspace).count() == 1
    assert not Invoice.objects.filter(workspace=personal).exists()
    assert not LocalCharge.objects.filter(workspace=personal).exists()
    assert not SeatCharge.objects.filter(workspace=personal).exists()


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
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 8, tzinfo=UTC),
    )
    pending = SeatCharge.objects.get(status=ChargeStatus.PENDING)
    assert pending.amount_cents == 499
    assert SeatCharge.objects.get(status=ChargeStatus.CANCELED).amount_cents == round_half_up(8_999 * 10, 12)
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
    assert (seat.interval, seat.coterm, seat.anchor_date) == (Interval.MONTH, False, date(2026, 4, 15))
    assert account_balance_cents(workspace) == round_half_up(8_999 * 8, 12)  # May to December
    change = SeatCharge.objects.get(kind=ChargeKind.PERIOD_CHANGE)
    assert (change.amount_cents, change.status) == (1_299, ChargeStatus.PENDING)


def test_a_period_the_plan_does_not_sell_is_refused(workspace, owner, add_members):
    subscribe(workspace, plan="team-starter", interval=Interval.MONTH, start=MARCH_1)
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
    subscribe(workspace, channel=Channel.MOBILE)
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


# --- the daily job ---------------------------------------------------------------------------------


def test_acceptance_4_the_daily_job_run_twice_for_the_same_day_charges_each_seat_once(
    workspace, owner, pro_annual, add_members, other_workspace
):
    add_members(2)
    subscribe(other_workspace)
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
    assert LocalCharge.objects.filter(workspace=workspace).count() == 1
    assert LocalCharge.objects.get(workspace=workspace).amount_cents == invoice.total_cents
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
    assert seat.period_end == datetime(2026, 3, 15, tzinfo=UTC)
    assert LocalCharge.objects.count() == 2  # the first week, then its renewal


def test_cotermed_seats_follow_the_subscription_into_its_next_period(
    workspace, owner, pro_annual, add_members
):
    add_members(2)
    with time_machine.travel(at(MARCH_1), tick=False):
        join(workspace, owner, "coterm@team.test")
    assert selectors.coterm_paid_seat_count(workspace) == 1
    # Billing renewed the subscription (and billed its co-termed seats with it).
    Subscription.objects.filter(workspace=workspace).update(
        current_period_start=datetime(2027, 1, 1, tzinfo=UTC),
        current_period_end=datetime(2028, 1, 1, tzinfo=UTC),
    )
    run_seat_sweeps(now=at(date(2027, 1, 1), 5))
    seat = Seat.objects.get()
    assert (seat.period_start, seat.period_end) == (
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2028, 1, 1, tzinfo=UTC),
    )
    assert not SeatCharge.objects.filter(kind=ChargeKind.RENEWAL).exists()


def test_seats_end_unbilled_when_the_workspace_falls_back_to_free(workspace, owner, pro_annual, add_members):
    add_members(2)
    with time_machine.travel(at(MARCH_1), tick=False):
        join(workspace, owner, "gone@team.test")
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


# --- tenancy -----------------------------------------------------------------------------------------


def test_seat_services_stay_inside_their_workspace(workspace, owner, pro_annual, other_workspace):
    subscribe(other_workspace)
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


# --- after billing changed the subscription ---------------------------------------------------------


def test_seats_sync_after_a_purchase_gives_the_members_beyond_the_included_ones_a_seat_unbilled(
    workspace, owner, add_members, other_workspace
):
    add_members(4)  # 5 licensed on Free
    subscribe(workspace, interval=Interval.MONTH, start=MARCH_1)  # billing bought Pro for them
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
    subscription = subscribe(workspace, interval=Interval.MONTH, start=MARCH_1)
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
    subscription = subscribe(workspace, interval=Interval.MONTH, start=MARCH_1)
    add_members(2)
    with time_machine.travel(at(date(2026, 3, 3)), tick=False):
        join(workspace, owner, "coterm@team.test")
    # Billing switched the subscription to annual on 10 March (and billed the seat with it).
    subscription.price = subscription.plan.prices.get(interval=Interval.YEAR)
    subscription.current_period_start = datetime(2026, 3, 10, tzinfo=UTC)
    subscription.current_period_end = datetime(2027, 3, 10, tzinfo=UTC)
    subscription.save()
    assert services.seats_sync(workspace=workspace, now=at(date(2026, 3, 10))) == 1
    seat = Seat.objects.get()
    assert (seat.interval, seat.coterm, seat.price_cents) == (Interval.YEAR, True, 8_999)
    assert seat.period_end == datetime(2027, 3, 10, tzinfo=UTC)
    assert selectors.coterm_paid_seat_count(workspace) == 1
