from typing import Any

from django.http import HttpRequest

from workspaces import permissions, selectors


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The sidebar: the current workspace, the member's capabilities, the switcher."""
    membership = getattr(request, "membership", None)
    if not request.user.is_authenticated:
        return {}
    return {
        "current_workspace": getattr(request, "workspace", None),
        "current_membership": membership,
        "can": {c.value: True for c in permissions.capabilities_of(membership.role)} if membership else {},
        "user_memberships": selectors.memberships_of_user(request.user),  # type: ignore[arg-type]
    }
