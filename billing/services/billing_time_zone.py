"""The workspace's billing time zone: chosen on the workspace Settings page, in force
from the next billing period (docs/rules/billing-calendar.md#changing-the-zone).

Every rule reads one zone, the one in force (:attr:`workspaces.models.Workspace.billing_zone`).
A zone chosen during a billing period waits on the workspace
(``billing_time_zone_next``) until that period's end (``billing_time_zone_next_at``);
the billing sweep then puts it in force, before it renews anything
(:func:`billing_time_zone_changes_apply`). At that moment every stored boundary of the
workspace — the subscription's period and trial end, its seats' periods, paid-until and
pending change dates, its live allowances' expiry, each the midnight its day began in
the old zone — moves to the midnight of the same day in the new zone
(:func:`domain.calendar.moved_midnight`): the days every period counts stay the same,
and from then on everything is read in the new zone.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from django.db import transaction

from audit.models import Kind
from audit.services import record_changes
from credits.models import CreditGrant
from domain.calendar import moved_midnight
from subscriptions.models import Subscription
from subscriptions.selectors import subscription_of
from teams.models import Seat
from teams.services import lock_seats
from workspaces.models import Membership, Workspace
from workspaces.services import billing_time_zone_choose
from workspaces.time_zones import zone_named

logger = logging.getLogger(__name__)

_SUBSCRIPTION_BOUNDARIES = ("current_period_start", "current_period_end", "trial_end")
_SEAT_BOUNDARIES = ("period_start", "period_end", "paid_until", "pending_at")


def billing_time_zone_change(
    *, workspace: Workspace, actor: Membership, zone: str, now: datetime
) -> Workspace:
    """An owner or admin chooses the workspace's billing time zone: it applies from the
    end of the billing period in progress (at once, at the next sweep, when that period
    is over already). Refused for other roles and unknown zones, nothing written."""
    period_end = subscription_of(workspace).current_period_end
    return billing_time_zone_choose(
        workspace=workspace, actor=actor, zone=zone, applies_at=max(period_end, now)
    )


def billing_time_zone_changes_apply(*, now: datetime) -> int:
    """The sweep's first step: put in force every chosen zone whose time has come (one
    transaction per workspace; idempotent: an applied change is no longer pending).
    Returns how many workspaces changed zone."""
    due = (
        Workspace.objects.filter(billing_time_zone_next_at__lte=now)
        .order_by("billing_time_zone_next_at", "id")
        .values_list("id", flat=True)
    )
    return sum(_switch(workspace_id, now=now) for workspace_id in list(due))


@transaction.atomic
def _switch(workspace_id: uuid.UUID, *, now: datetime) -> int:
    # The seat lock, then the subscription row (as every seat change and billing change
    # takes them), then the workspace row.
    lock_seats(workspace_id)
    subscription = (
        Subscription.objects.select_for_update(no_key=True).filter(workspace_id=workspace_id).first()
    )
    workspace = Workspace.objects.select_for_update(no_key=True).get(pk=workspace_id)
    due_at = workspace.billing_time_zone_next_at
    if not workspace.billing_time_zone_next or due_at is None or due_at > now:
        return 0
    old, new = workspace.billing_zone, zone_named(workspace.billing_time_zone_next)

    def move(row: Any, fields: tuple[str, ...]) -> list[str]:
        moved = []
        for name in fields:
            value = getattr(row, name)
            if value is not None:
                setattr(row, name, moved_midnight(value, old, new))
                moved.append(name)
        return moved

    if subscription is not None:
        subscription.save(update_fields=[*move(subscription, _SUBSCRIPTION_BOUNDARIES), "updated_at"])
    seats = list(Seat.objects.select_for_update().filter(workspace_id=workspace_id))
    for seat in seats:
        move(seat, _SEAT_BOUNDARIES)
    Seat.objects.bulk_update(seats, list(_SEAT_BOUNDARIES))
    grants = list(
        CreditGrant.objects.select_for_update().filter(
            workspace_id=workspace_id, expired_at__isnull=True, expires_at__isnull=False
        )
    )
    for grant in grants:
        move(grant, ("expires_at",))
    CreditGrant.objects.bulk_update(grants, ["expires_at"])
    logger.info(
        "Workspace %s reads its billing days in %s from now on (was %s)",
        workspace_id,
        workspace.billing_time_zone_next,
        workspace.billing_time_zone,
    )
    before = {"billing_time_zone_in_force": workspace.billing_time_zone}
    workspace.billing_time_zone = workspace.billing_time_zone_next
    workspace.billing_time_zone_next, workspace.billing_time_zone_next_at = "", None
    workspace.save(update_fields=["billing_time_zone", "billing_time_zone_next", "billing_time_zone_next_at"])
    # The sweep puts the owner's choice in force: the system's entry (docs/rules/operators.md#audit-trail).
    record_changes(
        kind=Kind.WORKSPACE_SETTINGS_CHANGED, workspace=workspace, object_type="workspace",
        object_id=workspace.pk, object_repr=workspace.name,
        before=before, after={"billing_time_zone_in_force": workspace.billing_time_zone}, now=now,
    )  # fmt: skip
    return 1
