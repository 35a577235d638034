"""Workspace pages: where a signed-in user lands, and the workspace home (the workspace list
is billing.pages.workspaces, invitations and members are teams.views)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from workspaces import selectors
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.permissions import Capability


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send a visitor to sign in, and a member to their current workspace."""
    if not request.user.is_authenticated:
        return redirect("account_login")
    memberships = list(selectors.memberships_of_user(request.user))  # type: ignore[arg-type]
    if not memberships:
        return redirect("workspace_list")
    current = request.session.get("current_workspace_id")
    chosen = next((m for m in memberships if str(m.workspace_id) == current), memberships[0])
    return redirect("workspace_home", workspace_id=chosen.workspace_id)


@workspace_view(Capability.VIEW_WORKSPACE)
@require_GET
def workspace_home(request: WorkspaceRequest) -> HttpResponse:
    return render(request, "workspaces/home.html", {"workspace": request.workspace})
