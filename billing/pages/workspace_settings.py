"""The workspace Settings page: the billing time zone
(docs/rules/billing-calendar.md#billing-time-zone).

Every member sees it (``VIEW_WORKSPACE``); owners and admins change it
(``MANAGE_SETTINGS``, its own address that takes the form's POST). A change
applies from the next billing period, which billing knows: the page lives here, as the
workspace list does, and renders ``workspaces/settings.html``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billing.pages import display
from billing.services.billing_time_zone import billing_time_zone_change
from domain.calendar import day_of
from workspaces import permissions
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.errors import DomainError
from workspaces.forms import BillingTimeZoneForm
from workspaces.models import Workspace
from workspaces.permissions import Capability


def _pending_from(workspace: Workspace) -> str:
    """The day a chosen zone applies from, read in the zone in force."""
    if workspace.billing_time_zone_next_at is None:
        return ""
    return display.day(day_of(workspace.billing_time_zone_next_at, workspace.billing_zone), "long")


def _page(request: WorkspaceRequest, form: BillingTimeZoneForm | None, *, status: int = 200) -> HttpResponse:
    workspace = request.workspace
    return render(
        request,
        "workspaces/settings.html",
        {
            "workspace": workspace,
            "nav": "settings",
            "form": form,
            "pending_from": _pending_from(workspace),
            "refusal": "" if form is not None else permissions.REFUSAL_MESSAGES[Capability.MANAGE_SETTINGS],
        },
        status=status,
    )


@workspace_view(Capability.VIEW_WORKSPACE)
@require_GET
def workspace_settings(request: WorkspaceRequest) -> HttpResponse:
    """The billing time zone in force and the one chosen for the next period; for owners
    and admins, the form that chooses it."""
    workspace = request.workspace
    if not permissions.allows(request.membership.role, Capability.MANAGE_SETTINGS):
        return _page(request, None)
    chosen = workspace.billing_time_zone_next or workspace.billing_time_zone
    return _page(request, BillingTimeZoneForm(initial={"billing_time_zone": chosen}))


@workspace_view(Capability.MANAGE_SETTINGS)
@require_POST
def workspace_billing_time_zone(request: WorkspaceRequest) -> HttpResponse:
    """Choose the billing time zone: it applies from the next billing period."""
    workspace = request.workspace
    form = BillingTimeZoneForm(request.POST)
    if form.is_valid():
        try:
            updated = billing_time_zone_change(
                workspace=workspace,
                actor=request.membership,
                zone=form.cleaned_data["billing_time_zone"],
                now=timezone.now(),
            )
        except DomainError as exc:
            form.add_error("billing_time_zone", str(exc.message))
        else:
            if updated.billing_time_zone_next:
                message = _(
                    "The billing time zone will be %(zone)s from %(date)s, the start of the next billing period."
                ) % {"zone": updated.billing_time_zone_next, "date": _pending_from(updated)}
            else:
                message = _("The billing time zone stays %(zone)s.") % {"zone": updated.billing_time_zone}
            messages.success(request, message)
            return redirect("workspace_settings", workspace_id=workspace.pk)
    return _page(request, form, status=400)
