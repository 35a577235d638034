"""Memberships and invitations: who joins, with which role, and who leaves.

Every change here also takes or releases a seat in the same transaction, so membership
writes live with the seats (docs/rules/roles.md, docs/rules/proration.md).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Kind as AuditKind
from audit.services import record as audit_record
from teams import errors as seat_errors
from teams.services.common import seat_check_invitation
from teams.services.members import seat_on_member_joined
from teams.services.releases import member_remove, seat_on_role_change
from workspaces import errors
from workspaces.models import (
    INVITATION_VALIDITY,
    Invitation,
    Membership,
    Role,
    User,
    Workspace,
    hash_invitation_token,
    new_invitation_token,
)
from workspaces.permissions import Capability, holds_licence
from workspaces.services import require_capability


def _send_invitation_email(invitation: Invitation, token: str) -> None:
    url = settings.SITE_URL.rstrip("/") + reverse("invitation_accept", kwargs={"token": token})
    context = {"invitation": invitation, "url": url}
    send_mail(
        subject=_("You are invited to join %(workspace)s") % {"workspace": invitation.workspace.name},
        message=render_to_string("workspaces/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_create(*, workspace: Workspace, actor: Membership, email: str, role: str) -> Invitation:
    """Invite someone by email with a role; owners are never invited (one owner)."""
    require_capability(actor, Capability.MANAGE_MEMBERS)
    email = email.strip().lower()
    if role == Role.OWNER:
        raise errors.OwnerRoleNotAssignable()
    if role not in Role.values:
        raise errors.DomainError(_("Unknown role."))
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise errors.AlreadyMember()
    if Invitation.objects.filter(workspace=workspace, email__iexact=email).pending().exists():
        raise errors.AlreadyInvited()
    now = timezone.now()
    seat_check_invitation(workspace=workspace, role=role, now=now)  # docs/rules/plans.md#member-caps
    # The link's token goes into the email only; the database keeps its hash
    # (docs/security.md#invitations).
    token, token_hash = new_invitation_token()
    invitation = Invitation(
        workspace=workspace,
        email=email,
        role=role,
        invited_by=actor.user,
        created_at=now,
        expires_at=now + INVITATION_VALIDITY,
        token_hash=token_hash,
    )
    invitation.full_clean()
    invitation.save()
    audit_record(
        kind=AuditKind.MEMBER_INVITED, workspace=workspace, actor=actor.user, object_type="invitation",
        object_id=invitation.pk, object_repr=email, after={"role": role}, now=now,
    )  # fmt: skip
    invitation.token = token
    # An outbox row in this transaction (EMAIL_BACKEND): sent by a worker once committed.
    _send_invitation_email(invitation, token)
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: Membership) -> Invitation:
    """Send the invitation again with a fresh validity period and a new link."""
    require_capability(actor, Capability.MANAGE_MEMBERS)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk, workspace=actor.workspace)
    if invitation.accepted_at or invitation.revoked_at:
        raise errors.InvitationAlreadyUsed()
    token, invitation.token_hash = new_invitation_token()  # the old link stops working
    invitation.expires_at = timezone.now() + INVITATION_VALIDITY
    invitation.save(update_fields=["token_hash", "expires_at"])
    invitation.token = token
    # An outbox row in this transaction (EMAIL_BACKEND): sent by a worker once committed.
    _send_invitation_email(invitation, token)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Membership) -> None:
    require_capability(actor, Capability.MANAGE_MEMBERS)
    updated = (
        Invitation.objects.filter(pk=invitation.pk, workspace=actor.workspace)
        .pending()
        .update(revoked_at=timezone.now())
    )
    if not updated:
        raise errors.InvitationAlreadyUsed()
    audit_record(
        kind=AuditKind.INVITATION_REVOKED, workspace=actor.workspace, actor=actor.user,
        object_type="invitation", object_id=invitation.pk, object_repr=invitation.email,
        before={"role": invitation.role},
    )  # fmt: skip


def check_invitation(invitation: Invitation | None) -> Invitation:
    """Raise the error that tells why an invitation cannot be accepted, if any."""
    if invitation is None:
        raise errors.InvitationInvalid()
    if invitation.revoked_at:
        raise errors.InvitationRevoked()
    if invitation.accepted_at:
        raise errors.InvitationAlreadyUsed()
    if invitation.is_expired():
        raise errors.InvitationExpired()
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User, now: datetime | None = None) -> Membership:
    """Turn a pending, unexpired invitation into a membership for the invited email; the
    new member takes a seat (:func:`teams.services.seat_on_member_joined`)."""
    now = now or timezone.now()
    invitation = check_invitation(
        Invitation.objects.select_for_update()
        .select_related("workspace")
        .filter(token_hash=hash_invitation_token(token))
        .first()
    )
    if invitation.email.lower() != user.email.lower():
        raise errors.InvitationEmailMismatch()
    if Membership.objects.filter(workspace=invitation.workspace, user=user).exists():
        raise errors.AlreadyMember()
    membership = Membership.objects.create(
        workspace=invitation.workspace, user=user, role=invitation.role, created_at=now
    )
    seat_on_member_joined(membership=membership, now=now)
    audit_record(
        kind=AuditKind.MEMBER_JOINED, workspace=invitation.workspace, actor=user, object_type="membership",
        object_id=membership.pk, object_repr=user.email, after={"role": membership.role}, now=now,
    )  # fmt: skip
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def check_role_change(membership: Membership, role: str) -> None:
    """A role can be any but the owner's, and the owner's role is never changed here
    (it moves by :func:`ownership_transfer`)."""
    if role == Role.OWNER:
        raise errors.OwnerRoleNotAssignable()
    if role not in Role.values:
        raise errors.DomainError(_("Unknown role."))
    if membership.role == Role.OWNER:
        raise errors.OwnerCannotBeChanged()


@transaction.atomic
def membership_change_role(
    *, membership: Membership, actor: Membership, role: str, now: datetime | None = None
) -> Membership:
    """Change a member's role; the owner role only moves by :func:`ownership_transfer`.
    Gaining or losing a licence takes or releases a seat (:func:`teams.services.seat_on_role_change`)."""
    require_capability(actor, Capability.MANAGE_MEMBERS)
    membership = Membership.objects.select_for_update().get(pk=membership.pk, workspace=actor.workspace)
    check_role_change(membership, role)
    before = membership.role
    seat_on_role_change(membership=membership, new_role=role, now=now or timezone.now())
    membership.role = role
    membership.save(update_fields=["role"])
    if before != role:
        audit_record(
            kind=AuditKind.MEMBER_ROLE_CHANGED, workspace=actor.workspace, actor=actor.user,
            object_type="membership", object_id=membership.pk, object_repr=membership.user.email,
            before={"role": before}, after={"role": role}, now=now,
        )  # fmt: skip
    return membership


@transaction.atomic
def ownership_transfer(*, workspace: Workspace, actor: Membership, new_owner: Membership) -> None:
    """The owner hands the workspace to another member, whose role already holds a seat
    (an admin, a billing admin or a member; never a guest or a visitor:
    docs/rules/roles.md#ownership-transfer), and becomes an admin. The seats do not move:
    both roles hold a licence before and after."""
    if actor.role != Role.OWNER or actor.workspace_id != workspace.pk:
        raise errors.PermissionDenied(_("Only the owner can transfer ownership."))
    new_owner = Membership.objects.select_for_update().get(pk=new_owner.pk, workspace=workspace)
    if new_owner.pk == actor.pk:
        return
    if not holds_licence(new_owner.role):
        raise seat_errors.OwnershipNeedsSeat()
    Membership.objects.filter(pk=actor.pk).update(role=Role.ADMIN)
    try:
        with transaction.atomic():
            Membership.objects.filter(pk=new_owner.pk).update(role=Role.OWNER)
    except IntegrityError as exc:  # pragma: no cover - guarded by the row lock above
        raise errors.OwnerRoleNotAssignable() from exc
    audit_record(
        kind=AuditKind.OWNERSHIP_TRANSFERRED, workspace=workspace, actor=actor.user,
        object_type="membership", object_id=new_owner.pk, object_repr=new_owner.user.email,
        before={"owner": actor.user.email}, after={"owner": new_owner.user.email},
    )  # fmt: skip


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Membership, now: datetime | None = None) -> None:
    """Remove a member (never the owner); their paid seat is released and credited by
    :func:`teams.services.member_remove`."""
    require_capability(actor, Capability.MANAGE_MEMBERS)
    membership = Membership.objects.select_for_update().get(pk=membership.pk, workspace=actor.workspace)
    member_remove(workspace=actor.workspace, actor=actor, membership=membership, now=now or timezone.now())
    audit_record(
        kind=AuditKind.MEMBER_REMOVED, workspace=actor.workspace, actor=actor.user,
        object_type="membership", object_id=membership.pk, object_repr=membership.user.email,
        before={"role": membership.role}, now=now,
    )  # fmt: skip
