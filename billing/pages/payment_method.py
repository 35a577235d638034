""" "Mettre à jour le paiement": the workspace action that sends an admin to the gateway's page."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from gateways.base import get_gateway
from workspaces.access import WorkspaceRequest, safe_return_url, workspace_view
from workspaces.permissions import Capability


@workspace_view(Capability.MANAGE_BILLING)
@require_POST
def payment_method_update(request: WorkspaceRequest) -> HttpResponse:
    """ "Mettre à jour le paiement": off to the gateway's secure page, then back here."""
    workspace = request.workspace
    home = reverse("workspace_home", args=[workspace.pk])
    back = request.POST.get("next", "")
    return_url = back if back.startswith(f"/{workspace.pk}/") else home
    return redirect(get_gateway().setup_url(workspace, safe_return_url(request, return_url, home)))
