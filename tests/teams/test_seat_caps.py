"""Acceptance 2: each refusal of a seat change with its message, nothing changed
(docs/rules/plans.md#member-caps)."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import translation

from subscriptions.models import Channel
from teams import errors, selectors, services
from teams import services as membership_services
from teams.models import Seat, SeatCharge
from tests.factories import (
    SubscriptionRowFactory,
    UserFactory,
)
from tests.teams.conftest import MARCH_1, at, french, join, snapshot
from workspaces import errors as workspace_errors
from workspaces.models import Role

pytestmark = pytest.mark.django_db


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
    # Bought in the app stores: no web purchase to go through.
    SubscriptionRowFactory(workspace=workspace, channel=Channel.MOBILE)
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
    # Bought in the app stores: no web purchase to go through.
    SubscriptionRowFactory(workspace=workspace, channel=Channel.MOBILE)
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
    # March to December: 89,99 € × 10/12 = 74,991… → 74,99 €
    assert SeatCharge.objects.get(seat=seat).amount_cents == 7_499


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
