from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from teams import services as membership_services
from tests.factories import MembershipFactory, UserFactory
from workspaces import errors, services
from workspaces.models import Invitation, Membership, Role


def test_workspace_create_makes_the_creator_its_one_owner(db):
    user = UserFactory()
    workspace = services.workspace_create(owner=user, name="  Nova  ", country="fr")
    assert workspace.name == "Nova"
    assert workspace.country == "FR"
    assert workspace.currency == "EUR"
    assert workspace.billing_email == user.email
    assert list(workspace.memberships.values_list("user__email", "role")) == [(user.email, Role.OWNER)]


@pytest.mark.django_db(transaction=True)
def test_invitation_is_emailed_with_its_link(workspace, owner):
    invitation = membership_services.invitation_create(
        workspace=workspace, actor=owner, email="New.Person@Example.test", role=Role.MEMBER
    )
    assert invitation.email == "new.person@example.test"
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.test"]
    assert f"/invitations/{invitation.token}/" in mail.outbox[0].body


def test_member_cannot_invite(workspace, member):
    with pytest.raises(errors.PermissionDenied):
        membership_services.invitation_create(
            workspace=workspace, actor=member, email="x@example.test", role=Role.MEMBER
        )
    assert not Invitation.objects.exists()


def test_nobody_is_invited_as_a_second_owner(workspace, owner):
    with pytest.raises(errors.OwnerRoleNotAssignable):
        membership_services.invitation_create(
            workspace=workspace, actor=owner, email="x@example.test", role=Role.OWNER
        )
    assert not Invitation.objects.exists()


def test_second_owner_is_refused_by_role_change_and_by_the_database(workspace, owner, admin):
    with pytest.raises(errors.OwnerRoleNotAssignable):
        membership_services.membership_change_role(membership=admin, actor=owner, role=Role.OWNER)
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(workspace=workspace, role=Role.OWNER)
    assert Membership.objects.filter(workspace=workspace, role=Role.OWNER).count() == 1


def test_accept_creates_the_membership_once(workspace, owner):
    invitation = membership_services.invitation_create(
        workspace=workspace, actor=owner, email="joiner@example.test", role=Role.BILLING_ADMIN
    )
    joiner = UserFactory(email="joiner@example.test")
    membership = membership_services.invitation_accept(token=invitation.token, user=joiner)
    assert membership.role == Role.BILLING_ADMIN
    assert membership.workspace == workspace

    with pytest.raises(errors.InvitationAlreadyUsed):
        membership_services.invitation_accept(token=invitation.token, user=joiner)
    assert Membership.objects.filter(workspace=workspace, user=joiner).count() == 1


def test_expired_invitation_is_refused_and_changes_nothing(workspace, owner):
    invitation = membership_services.invitation_create(
        workspace=workspace, actor=owner, email="late@example.test", role=Role.MEMBER
    )
    late = UserFactory(email="late@example.test")
    with time_machine.travel(timezone.now() + timedelta(days=8)), pytest.raises(errors.InvitationExpired):
        membership_services.invitation_accept(token=invitation.token, user=late)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not Membership.objects.filter(user=late).exists()


def test_invitation_for_another_address_is_refused(workspace, owner):
    invitation = membership_services.invitation_create(
        workspace=workspace, actor=owner, email="right@example.test", role=Role.MEMBER
    )
    wrong = UserFactory(email="wrong@example.test")
    with pytest.raises(errors.InvitationEmailMismatch):
        membership_services.invitation_accept(token=invitation.token, user=wrong)
    assert not Membership.objects.filter(user=wrong).exists()


def test_revoked_invitation_cannot_be_accepted(workspace, owner):
    invitation = membership_services.invitation_create(
        workspace=workspace, actor=owner, email="gone@example.test", role=Role.MEMBER
    )
    membership_services.invitation_revoke(invitation=invitation, actor=owner)
    with pytest.raises(errors.InvitationRevoked):
        membership_services.invitation_accept(
            token=invitation.token, user=UserFactory(email="gone@example.test")
        )


def test_inviting_an_existing_member_or_twice_is_refused(workspace, owner, member):
    with pytest.raises(errors.AlreadyMember):
        membership_services.invitation_create(
            workspace=workspace, actor=owner, email=member.user.email, role=Role.MEMBER
        )
    membership_services.invitation_create(
        workspace=workspace, actor=owner, email="twice@example.test", role=Role.MEMBER
    )
    with pytest.raises(errors.AlreadyInvited):
        membership_services.invitation_create(
            workspace=workspace, actor=owner, email="TWICE@example.test", role=Role.ADMIN
        )
    assert Invitation.objects.filter(workspace=workspace).count() == 1


def test_resend_renews_the_link_and_the_expiry(workspace, owner):
    invitation = membership_services.invitation_create(
        workspace=workspace, actor=owner, email="again@example.test", role=Role.MEMBER
    )
    old_token = invitation.token
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        renewed = membership_services.invitation_resend(invitation=invitation, actor=owner)
        assert renewed.token != old_token
        assert renewed.expires_at > timezone.now() + timedelta(days=6)


def test_ownership_transfer_keeps_exactly_one_owner(workspace, owner, admin):
    membership_services.ownership_transfer(workspace=workspace, actor=owner, new_owner=admin)
    roles = dict(Membership.objects.filter(workspace=workspace).values_list("pk", "role"))
    assert roles[admin.pk] == Role.OWNER
    assert roles[owner.pk] == Role.ADMIN


def test_only_the_owner_transfers_ownership(workspace, owner, admin, member):
    with pytest.raises(errors.PermissionDenied):
        membership_services.ownership_transfer(workspace=workspace, actor=admin, new_owner=member)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_owner_cannot_be_demoted_or_removed(workspace, owner, admin):
    with pytest.raises(errors.OwnerCannotBeChanged):
        membership_services.membership_change_role(membership=owner, actor=admin, role=Role.MEMBER)
    with pytest.raises(errors.OwnerCannotBeChanged):
        membership_services.membership_remove(membership=owner, actor=admin)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_services_do_not_reach_into_another_workspace(workspace, owner, other_workspace):
    foreign = Membership.objects.filter(workspace=other_workspace, role=Role.MEMBER).get()
    with pytest.raises(Membership.DoesNotExist):
        membership_services.membership_change_role(membership=foreign, actor=owner, role=Role.ADMIN)
    foreign.refresh_from_db()
    assert foreign.role == Role.MEMBER
