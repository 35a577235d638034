"""Reads of tenant data, always scoped by workspace (or by the signed-in user)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from workspaces.models import Invitation, Membership, Role, User, Workspace, hash_invitation_token

#: Who hears about billing (docs/rules/roles.md#billing-contacts): the owner, the admins
#: and the billing admins, plus the workspace's billing email.
BILLING_CONTACT_ROLES: tuple[str, ...] = (Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN)


def membership_for(*, user: User, workspace_id: uuid.UUID) -> Membership | None:
    """The user's membership in that workspace, with the workspace, or None."""
    return Membership.objects.select_related("workspace").filter(user=user, workspace_id=workspace_id).first()


def memberships_of_user(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("workspace")
        .order_by("workspace__name", "workspace__created_at")
    )


def pending_invitations(workspace: Workspace) -> QuerySet[Invitation]:
    return Invitation.objects.filter(workspace=workspace).pending().select_related("invited_by")


def get_invitation_in_workspace(workspace: Workspace, invitation_id: uuid.UUID) -> Invitation:
    return Invitation.objects.get(workspace=workspace, id=invitation_id)


def get_membership_in_workspace(workspace: Workspace, membership_id: int) -> Membership:
    return Membership.objects.select_related("user").get(workspace=workspace, id=membership_id)


def invitation_by_token(token: str) -> Invitation | None:
    if "\x00" in token:  # PostgreSQL text cannot hold NUL: no invitation has it
        return None
    return (
        Invitation.objects.select_related("workspace").filter(token_hash=hash_invitation_token(token)).first()
    )


def billing_contacts(workspace: Workspace) -> list[str]:
    """The addresses every billing email goes to (docs/rules/roles.md#billing-contacts):
    the owner, the admins, the billing admins and the billing email, each address once
    (case-insensitive), sorted."""
    emails = Membership.objects.filter(workspace=workspace, role__in=BILLING_CONTACT_ROLES).values_list(
        "user__email", flat=True
    )
    unique = {e.strip().lower(): e.strip() for e in [*emails, workspace.billing_email] if e and e.strip()}
    return sorted(unique.values(), key=str.lower)
