"""The Settings tab: the cancellation card, or reactivation once cancelled."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from billing.pages.forms import new_token
from billing.pages.responses import render_tab
from billing.pages.subscription_selectors import settings_page
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.permissions import Capability


@workspace_view(Capability.VIEW_PLAN)
@require_GET
def subscription_settings(request: WorkspaceRequest) -> HttpResponse:
    """Settings: the cancellation card, or reactivation once cancelled."""
    return render_tab(
        request,
        "settings",
        _("Settings"),
        {"overview": settings_page(request.workspace), "action_token": new_token()},
    )
