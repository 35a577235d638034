"""The workspace list, where a signed-in user opens a new workspace."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.onboarding import workspace_open
from workspaces import selectors
from workspaces.forms import WorkspaceCreateForm


@login_required
@require_http_methods(["GET", "POST"])
def workspace_list(request: HttpRequest) -> HttpResponse:
    form = WorkspaceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = workspace_open(
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
