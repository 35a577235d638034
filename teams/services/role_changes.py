"""What a role change costs, shown before it is confirmed (docs/rules/roles.md#changing-a-role).

A role that gains a licence takes a seat, paid when no included or extra seat is free;
one that loses it releases a seat like a removal. The preview is computed by the code
that makes the change: the licence gained is taken inside a savepoint that is rolled
back (the seat charge it would record is read first), the licence lost is the removal's
own preview. What is previewed is what is charged or credited, to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from teams.models import SeatCharge
from teams.services.memberships import check_role_change
from teams.services.releases import RemovalPreview, preview_member_removal, seat_on_role_change
from workspaces import errors
from workspaces.models import Membership, Role, Workspace
from workspaces.permissions import Capability, holds_licence
from workspaces.services import require_capability


@dataclass(frozen=True)
class SeatCost:
    """The charge a seat taken today adds to the next seat invoice, before VAT."""

    amount_cents: int
    currency: str
    description: str


@dataclass(frozen=True)
class RoleChangePreview:
    membership: Membership
    role: str
    #: The paid seat the new role takes, when no included or extra seat is free.
    seat_cost: SeatCost | None = None
    #: What the licence lost releases (its credit), as removing the member would.
    removal: RemovalPreview | None = None

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)

    @property
    def gains_licence(self) -> bool:
        return not holds_licence(self.membership.role) and holds_licence(self.role)

    @property
    def loses_licence(self) -> bool:
        return holds_licence(self.membership.role) and not holds_licence(self.role)


class _RolledBack(Exception):
    """Ends the savepoint of a preview."""


def preview_role_change(
    *, workspace: Workspace, actor: Membership, membership: Membership, role: str, now: datetime
) -> RoleChangePreview:
    """What changing ``membership``'s role to ``role`` would charge or credit; refuses what
    :func:`teams.services.membership_change_role` refuses (the caps included)."""
    require_capability(actor, Capability.MANAGE_MEMBERS)
    if membership.workspace_id != workspace.pk or actor.workspace_id != workspace.pk:
        raise errors.PermissionDenied()
    check_role_change(membership, role)
    preview = RoleChangePreview(membership=membership, role=role)
    if preview.loses_licence:
        removal = preview_member_removal(workspace=workspace, actor=actor, membership=membership, now=now)
        return RoleChangePreview(membership=membership, role=role, removal=removal)
    if not preview.gains_licence:
        return preview
    cost: list[SeatCost] = []
    try:
        with transaction.atomic():
            before = set(SeatCharge.objects.filter(workspace=workspace).values_list("pk", flat=True))
            seat_on_role_change(membership=membership, new_role=role, now=now)
            for charge in SeatCharge.objects.filter(workspace=workspace).exclude(pk__in=before):
                cost.append(SeatCost(int(charge.amount_cents), charge.currency, charge.description))
            raise _RolledBack
    except _RolledBack:
        pass
    return RoleChangePreview(membership=membership, role=role, seat_cost=cost[0] if cost else None)
