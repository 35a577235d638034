"""The workspace Settings page: the billing time zone
(docs/rules/billing-calendar.md#billing-time-zone) and the billing details
(docs/rules/invoices.md#billing-details).

Every member sees it (``VIEW_WORKSPACE``); owners and admins change it
(``MANAGE_SETTINGS``, its own address that takes the form's POST). A change
applies from the next billing period, which billing knows: the page lives here, as the
workspace list does, and renders ``workspaces/settings.html``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billing.pages import display
from billing.pages.forms import BillingDetailsForm
from billing.services.billing_time_zone import billing_time_zone_change
from domain.calendar import day_of
from invoices import billing_details as details_rules
from invoices import selectors as invoice_selectors
from invoices import services as invoice_services
from invoices.errors import BillingDetailsInvalid
from invoices.models import BillingLanguage
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


def _details_form(request: WorkspaceRequest, data: Any = None) -> BillingDetailsForm | None:
    """The billing details form for those who may change them (owners, admins, billing admins)."""
    if not permissions.allows(request.membership.role, Capability.MANAGE_BILLING_DETAILS):
        return None
    workspace = request.workspace
    details = invoice_selectors.billing_details_of(workspace)
    initial = invoice_selectors.billing_details_values(workspace, details)
    initial["legal_name"] = details.legal_name or workspace.name
    return BillingDetailsForm(
        data,
        initial=initial,
        countries=details_rules.countries(get_language() or "fr"),
        languages=[(value, str(label)) for value, label in BillingLanguage.choices],
    )


def _page(
    request: WorkspaceRequest,
    form: BillingTimeZoneForm | None,
    *,
    status: int = 200,
    details_form: BillingDetailsForm | None = None,
) -> HttpResponse:
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
            "details_form": details_form or _details_form(request),
        },
        status=status,
    )


@workspace_view(Capability.VIEW_WORKSPACE)
@require_GET
def workspace_settings(request: WorkspaceRequest) -> HttpResponse:
    """The billing time zone in force and the one chosen for the next period; for owners
    and admins, the form that chooses it."""
    return _page(request, _time_zone_form(request))


def _time_zone_form(request: WorkspaceRequest) -> BillingTimeZoneForm | None:
    workspace = request.workspace
    if not permissions.allows(request.membership.role, Capability.MANAGE_SETTINGS):
        return None
    chosen = workspace.billing_time_zone_next or workspace.billing_time_zone
    return BillingTimeZoneForm(initial={"billing_time_zone": chosen})


@workspace_view(Capability.MANAGE_BILLING_DETAILS)
@require_POST
def workspace_billing_details(request: WorkspaceRequest) -> HttpResponse:
    """Save the billing details: every detail checked, nothing saved if one is refused;
    documents already issued keep the details they were issued with."""
    form = _details_form(request, request.POST)
    if form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            invoice_services.billing_details_update(
                workspace=request.workspace, actor=request.membership, now=timezone.now(), **data
            )
        except BillingDetailsInvalid as exc:
            form.add_error(exc.field or None, str(exc.message))
        else:
            messages.success(request, _("Billing details saved. They apply to the next invoices."))
            return redirect("workspace_settings", workspace_id=request.workspace.pk)
    return _page(request, _time_zone_form(request), details_form=form, status=400)


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
