"""The one permission policy: docs/rules/roles.md#capability-matrix, and nothing else.

Every workspace view declares the capability it needs (see :mod:`workspaces.access`),
and every service that changes tenant data checks the acting member's role here.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from workspaces.models import Role


class Capability(StrEnum):
    VIEW_WORKSPACE = "view_workspace"
    VIEW_MEMBERS = "view_members"
    VIEW_PLAN = "view_plan"
    VIEW_BILLING = "view_billing"
    MANAGE_BILLING = "manage_billing"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_BILLING_DETAILS = "manage_billing_details"
    VIEW_ACTIVITY = "view_activity"
    USE_AI = "use_ai"


_EVERYONE = frozenset(Role)
#: docs/rules/roles.md#licensed-roles: these roles hold a licence (a seat); guests and
#: visitors hold none.
_LICENSED = frozenset({Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN, Role.MEMBER})
_BILLING_READERS = frozenset({Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN})
_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})

#: capability → roles that hold it (docs/rules/roles.md#capability-matrix).
POLICY: dict[Capability, frozenset[Role]] = {
    Capability.VIEW_WORKSPACE: _EVERYONE,
    Capability.VIEW_MEMBERS: _LICENSED,
    Capability.VIEW_PLAN: _LICENSED,
    Capability.VIEW_BILLING: _BILLING_READERS,
    Capability.MANAGE_BILLING: _MANAGERS,
    Capability.MANAGE_MEMBERS: _MANAGERS,
    # The workspace's settings, its billing time zone among them
    # (docs/rules/billing-calendar.md#billing-time-zone).
    Capability.MANAGE_SETTINGS: _MANAGERS,
    # The metering API's keys: their own row of the matrix, and their own refusal.
    Capability.MANAGE_API_KEYS: _MANAGERS,
    # Who the documents are made out to: whoever reads the invoices edits them
    # (docs/rules/invoices.md#billing-details).
    Capability.MANAGE_BILLING_DETAILS: _BILLING_READERS,
    # The workspace's audit trail, the "Activité" page (docs/rules/operators.md#activity-page).
    Capability.VIEW_ACTIVITY: _MANAGERS,
    # Guests and visitors can never perform AI actions, whatever the cost
    # (docs/rules/credits.md#who-can-consume).
    Capability.USE_AI: _LICENSED,
}

#: What a refused member is told, per capability: each message names what that capability
#: is about (docs/rules/roles.md#refusals), so no page refuses with another one's words.
REFUSAL_MESSAGES = {
    Capability.VIEW_WORKSPACE: _("You are not a member of this workspace."),
    Capability.VIEW_MEMBERS: _("Your role does not give access to the member list."),
    Capability.VIEW_PLAN: _("Your role does not give access to the subscription information."),
    Capability.VIEW_BILLING: _(
        "Only owners, admins and billing admins can see the credit balance, invoices and payment method."
    ),
    Capability.MANAGE_BILLING: _(
        "Only the workspace owner and admins can change the subscription. Contact an admin of the workspace."
    ),
    Capability.MANAGE_MEMBERS: _("Only the workspace owner and admins can invite, remove or change members."),
    Capability.MANAGE_SETTINGS: _("Only the workspace owner and admins can change the workspace settings."),
    Capability.MANAGE_API_KEYS: _(
        "Only the workspace owner and admins can create or revoke API keys. Contact an admin of the workspace."
    ),
    Capability.VIEW_ACTIVITY: _("Only the workspace owner and admins can read the workspace's activity."),
    Capability.MANAGE_BILLING_DETAILS: _(
        "Only the workspace owner, admins and billing admins can change the billing details."
    ),
    Capability.USE_AI: _("Guests and visitors cannot perform AI actions."),
}


def allows(role: str, capability: Capability) -> bool:
    """Whether a member holding ``role`` has ``capability``."""
    return role in POLICY[capability]


def capabilities_of(role: str) -> frozenset[Capability]:
    return frozenset(c for c, roles in POLICY.items() if role in roles)


def holds_licence(role: str) -> bool:
    """Seats are held by members with a licence; guests and visitors hold none."""
    return role in _LICENSED


#: The licensed roles as plain values, in :class:`Role`'s order: for ``role__in`` lookups
#: and SQL arrays (``list(LICENSED_ROLES)``). Derived from the one policy above.
LICENSED_ROLES: tuple[str, ...] = tuple(role for role in Role.values if holds_licence(role))
