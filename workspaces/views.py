"""Workspace pages: list/create, home, members and invitations, invitation acceptance."""

from __future__ import annotations

import uuid

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from workspaces import errors, selectors, services
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.forms import InvitationForm, RoleChangeForm, WorkspaceCreateForm
from workspaces.models import Invitation, Membership
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


def _members_page(
    request: WorkspaceRequest, invite_form: InvitationForm | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "workspaces/members.html",
        {
            "workspace": request.workspace,
            "members": selectors.members_of(request.workspace),
            "invitations": selectors.pending_invitations(request.workspace),
            "invite_form": invite_form or InvitationForm(),
            "role_form": RoleChangeForm(),
        },
        status=status,
    )


@workspace_view(Capability.VIEW_MEMBERS)
@require_GET
def member_list(request: WorkspaceRequest) -> HttpResponse:
    return _members_page(request)


@workspace_view(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_create(request: WorkspaceRequest) -> HttpResponse:
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                workspace=request.workspace,
                actor=request.membership,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except errors.DomainError as exc:
            form.add_error("email", exc.message)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("member_list", workspace_id=request.workspace.pk)
    return _members_page(request, invite_form=form, status=400)


def _invitation_or_404(request: WorkspaceRequest, invitation_id: uuid.UUID) -> Invitation:
    try:
        return selectors.get_invitation_in_workspace(request.workspace, invitation_id)
    except Invitation.DoesNotExist as exc:
        raise Http404("No such invitation.") from exc


def _membership_or_404(request: WorkspaceRequest, membership_id: int) -> Membership:
    try:
        return selectors.get_membership_in_workspace(request.workspace, membership_id)
    except Membership.DoesNotExist as exc:
        raise Http404("No such member.") from exc


@workspace_view(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_resend(request: WorkspaceRequest, invitation_id: uuid.UUID) -> HttpResponse:
    invitation = _invitation_or_404(request, invitation_id)
    try:
        services.invitation_resend(invitation=invitation, actor=request.membership)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Invitation sent again to %(email)s.") % {"email": invitation.email})
    return redirect("member_list", workspace_id=request.workspace.pk)


@workspace_view(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_revoke(request: WorkspaceRequest, invitation_id: uuid.UUID) -> HttpResponse:
    invitation = _invitation_or_404(request, invitation_id)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.membership)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
    return redirect("member_list", workspace_id=request.workspace.pk)


@workspace_view(Capability.MANAGE_MEMBERS)
@require_POST
def member_change_role(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    membership = _membership_or_404(request, membership_id)
    form = RoleChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
    else:
        try:
            services.membership_change_role(
                membership=membership, actor=request.membership, role=form.cleaned_data["role"]
            )
        except errors.DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Role of %(email)s updated.") % {"email": membership.user.email})
    return redirect("member_list", workspace_id=request.workspace.pk)


@workspace_view(Capability.MANAGE_MEMBERS)
@require_POST
def ownership_transfer(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    membership = _membership_or_404(request, membership_id)
    try:
        services.ownership_transfer(
            workspace=request.workspace, actor=request.membership, new_owner=membership
        )
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(email)s is now the owner of the workspace.") % {"email": membership.user.email}
        )
    return redirect("member_list", workspace_id=request.workspace.pk)


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
