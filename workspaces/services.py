"""Writes on the workspace itself; memberships and invitations are written by teams."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from domain.calendar import day_of
from workspaces import errors, permissions
from workspaces.models import Membership, Role, User, Workspace
from workspaces.permissions import Capability
from workspaces.signals import workspace_settings_changed
from workspaces.time_zones import is_billing_time_zone


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


@transaction.atomic
def billing_time_zone_choose(
    *, workspace: Workspace, actor: Membership, zone: str, applies_at: datetime
) -> Workspace:
    """Record the billing time zone an owner or admin chose
    (docs/rules/billing-calendar.md#changing-the-zone): pending, in force from
    ``applies_at`` — the end of the billing period in progress, which billing knows and
    passes (:func:`billing.services.billing_time_zone.billing_time_zone_change`); its sweep
    puts the zone in force then. Choosing the zone in force again cancels a pending
    change. Refused, with nothing written, for another role or an unknown zone.

    A choice that changes the zone chosen or the day it applies from is told to the audit
    trail (:data:`workspaces.signals.workspace_settings_changed`); one that changes
    neither is not."""
    require_capability(actor, Capability.MANAGE_SETTINGS)
    if actor.workspace_id != workspace.pk:
        raise errors.PermissionDenied(permissions.REFUSAL_MESSAGES[Capability.MANAGE_SETTINGS])
    if not is_billing_time_zone(zone):
        raise errors.UnknownTimeZone(value=str(zone))
    locked = Workspace.objects.select_for_update(no_key=True).get(pk=workspace.pk)
    before = _time_zone_chosen(locked)
    if zone == locked.billing_time_zone:
        locked.billing_time_zone_next, locked.billing_time_zone_next_at = "", None
    else:
        locked.billing_time_zone_next, locked.billing_time_zone_next_at = zone, applies_at
    locked.save(update_fields=["billing_time_zone_next", "billing_time_zone_next_at"])
    after = _time_zone_chosen(locked)
    if after != before:
        workspace_settings_changed.send(
            sender=Workspace, workspace=locked, actor=actor.user, object_type="workspace",
            before=before, after=after, now=None,
        )  # fmt: skip
    return locked


def _time_zone_chosen(workspace: Workspace) -> dict[str, Any]:
    """The billing time zone chosen for the next periods and the day (in the zone in
    force) it applies from; no day when the zone chosen is the one in force."""
    applies_at = workspace.billing_time_zone_next_at
    return {
        "billing_time_zone": workspace.billing_time_zone_next or workspace.billing_time_zone,
        "billing_time_zone_from": (
            day_of(applies_at, workspace.billing_zone).isoformat() if applies_at is not None else None
        ),
    }
