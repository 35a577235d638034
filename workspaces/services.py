"""Writes on the workspace itself; memberships and invitations are written by teams."""

from __future__ import annotations

from django.db import transaction

from workspaces import errors, permissions
from workspaces.models import Membership, Role, User, Workspace
from workspaces.permissions import Capability


def require_capability(membership: Membership, capability: Capability) -> None:
    """Refuse a service call by a member whose role lacks ``capability``."""
    if not permissions.allows(membership.role, capability):
        raise errors.PermissionDenied(permissions.REFUSAL_MESSAGES[capability])


@transaction.atomic
def workspace_create(*, owner: User, name: str, country: str = "FR", billing_email: str = "") -> Workspace:
    """Create the workspace row and its one owner (docs/rules/roles.md); a new workspace
    is opened, on the Free plan, by :func:`billing.onboarding.workspace_open`."""
    workspace = Workspace(
        name=name.strip(),
        country=country.upper(),
        billing_email=billing_email or owner.email,
    )
    workspace.full_clean()
    workspace.save()
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    return workspace
