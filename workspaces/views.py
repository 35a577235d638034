"""Workspace pages: list/create, home, invitation acceptance (the members page is teams.views)."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from workspaces import errors, selectors, services
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.forms import WorkspaceCreateForm
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


@login_required
@require_http_methods(["GET", "POST"])
def workspace_list(request: HttpRequest) -> HttpResponse:
    form = WorkspaceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = services.workspace_create(
            owner=request.user,  # type: ignore[arg-type]
            name=form.cleaned_data["name"],
            country=form.cleaned_data["country"],
        )
        messages.success(request, _("Workspace “%(name)s” created.") % {"name": workspace.name})
        return redirect("workspace_home", workspace_id=workspace.pk)
    return render(
        request,
        "workspaces/workspace_list.html",
        {"form": form, "memberships": selectors.memberships_of_user(request.user)},  # type: ignore[arg-type]
        status=400 if form.is_bound else 200,
    )


@workspace_view(Capability.VIEW_WORKSPACE)
@require_GET
def workspace_home(request: WorkspaceRequest) -> HttpResponse:
    return render(request, "workspaces/home.html", {"workspace": request.workspace})


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation; a signed-in invitee accepts it with a POST."""
    invitation = selectors.invitation_by_token(token)
    try:
        services.check_invitation(invitation)
    except errors.DomainError as exc:
        status = 404 if isinstance(exc, errors.InvitationInvalid) else 410
        return render(request, "workspaces/invitation_invalid.html", {"message": exc.message}, status=status)
    assert invitation is not None
    if not request.user.is_authenticated:
        # The link itself proves the invitee owns the address: no second verification.
        get_adapter(request).stash_verified_email(request, invitation.email)
        return render(request, "workspaces/invitation_accept.html", {"invitation": invitation})
    if request.method == "POST":
        try:
            membership = services.invitation_accept(token=token, user=request.user)  # type: ignore[arg-type]
        except errors.DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Welcome to %(workspace)s.") % {"workspace": membership.workspace.name}
            )
            return redirect("workspace_home", workspace_id=membership.workspace_id)
    return render(request, "workspaces/invitation_accept.html", {"invitation": invitation})
