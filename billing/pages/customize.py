"""Customization: extra seats and extra credits with a live cost summary, then
"Confirmer" (docs/rules/lifecycle.md#customize)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from billing import services
from billing.pages import display
from billing.pages.cards import CustomizeSummary
from billing.pages.confirmations import Outcome, error_message, outcome_of, run_once
from billing.pages.forms import CustomizeForm, new_token
from billing.pages.responses import base_context, flash_and_redirect
from billing.pages.subscription_selectors import subscription_card
from subscriptions import errors as billing_errors
from subscriptions import selectors as billing_selectors
from subscriptions.models import Subscription
from teams import selectors as team_selectors
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.errors import DomainError
from workspaces.permissions import Capability

PAGE = "billing/pages/customize.html"


def _form(data: Any, subscription: Subscription) -> CustomizeForm:
    plan = subscription.plan
    # Extra seats fill up to the member cap (the plan's, 3 on a mobile subscription,
    # docs/rules/plans.md#member-caps).
    cap = max(0, team_selectors.member_cap(subscription) - int(plan.included_seats))
    return CustomizeForm(
        data,
        initial={"extra_seats": subscription.extra_seats, "credit_packs": 0},
        max_extra_seats=cap,
        credits_label=display.credit_packs_label(int(plan.credit_pack_size)),
    )


def _summary(request: WorkspaceRequest, form: CustomizeForm, subscription: Subscription) -> CustomizeSummary:
    if not form.is_valid():
        errors = [str(e) for field in form.errors.values() for e in field]
        return CustomizeSummary(None, " ".join(errors), 0, 0, 0)
    seats, packs = form.cleaned_data["extra_seats"], form.cleaned_data["credit_packs"] or 0
    credits = packs * int(subscription.plan.credit_pack_size)
    try:
        preview = services.preview_customize(
            workspace=request.workspace, extra_seats=seats, credit_packs=packs
        )
    except DomainError as exc:
        return CustomizeSummary(None, error_message(exc), seats, packs, credits)
    return CustomizeSummary(preview, None, seats, packs, credits)


def _context(request: WorkspaceRequest, form: CustomizeForm, subscription: Subscription) -> dict[str, Any]:
    summary = _summary(request, form, subscription) if form.is_bound else None
    return {
        **base_context(request),
        "subscription": subscription,
        "card": subscription_card(
            request.workspace, subscription, coterm_seats=0, addons=[], card=None, now=timezone.now()
        ),
        "form": form,
        "summary": summary,
        "token": form.data.get("token") or new_token() if form.is_bound else new_token(),
    }


@workspace_view(Capability.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def subscription_customize(request: WorkspaceRequest) -> HttpResponse:
    """Extra seats and extra credits with a live cost summary, then "Confirmer"."""
    workspace, actor = request.workspace, request.membership
    subscription = billing_selectors.subscription_of(workspace)
    if request.method == "GET":
        initial = {"extra_seats": subscription.extra_seats, "credit_packs": 0, "token": new_token()}
        data = request.GET if "extra_seats" in request.GET else initial
        return render(request, PAGE, _context(request, _form(data, subscription), subscription))
    form = _form(request.POST, subscription)
    if not form.is_valid():
        return render(request, PAGE, _context(request, form, subscription), status=400)
    seats, packs = form.cleaned_data["extra_seats"], form.cleaned_data["credit_packs"] or 0
    fingerprint, token = form.cleaned_data["fingerprint"], form.cleaned_data["token"]

    def run() -> Outcome:
        result = services.apply_customize(
            workspace=workspace, actor=actor, extra_seats=seats, credit_packs=packs, preview=fingerprint
        )
        parts = [_("Your plan has been customized.")]
        if result.subscription.extra_seats != subscription.extra_seats:
            parts.append(
                ngettext("%(count)s extra seat.", "%(count)s extra seats.", result.subscription.extra_seats)
                % {"count": result.subscription.extra_seats}
            )
        if packs:
            parts.append(
                _("%(credits)s extra credits bought.")
                % {"credits": display.number(packs * int(subscription.plan.credit_pack_size))}
            )
        return outcome_of(result, " ".join(parts))

    try:
        outcome = run_once(request, "customize", token, run)
    except DomainError as exc:
        messages.error(request, error_message(exc))
        fresh = billing_selectors.subscription_of(workspace)
        status = 409 if isinstance(exc, billing_errors.StalePreview) else 400
        return render(request, PAGE, _context(request, _form(request.POST, fresh), fresh), status=status)
    return flash_and_redirect(request, outcome, "subscription_overview")


@workspace_view(Capability.MANAGE_BILLING)
@require_GET
def subscription_customize_summary(request: WorkspaceRequest) -> HttpResponse:
    """The live cost summary (htmx, on each change of the numbers)."""
    subscription = billing_selectors.subscription_of(request.workspace)
    data = (
        request.GET
        if "extra_seats" in request.GET
        else {"extra_seats": subscription.extra_seats, "credit_packs": 0}
    )
    context = _context(request, _form(data, subscription), subscription)
    return render(request, "billing/pages/partials/customize_summary.html", context)
