"""The Overview tab (plan, customization, annual switch, credits, usage chart, users) and
its credits card, polled alone."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from billing.pages.cards import Access
from billing.pages.forms import new_token
from billing.pages.overview_selectors import credits_card, overview_page
from billing.pages.responses import base_context, payment_update_url, render_tab, vary
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.permissions import Capability


@workspace_view(Capability.VIEW_PLAN)
@require_GET
def subscription_overview(request: WorkspaceRequest) -> HttpResponse:
    """Overview: plan, customization, annual switch, credits, usage chart, users."""
    access = Access.of(request.membership)
    overview = overview_page(request.workspace, access=access)
    return render_tab(
        request,
        "overview",
        _("Overview"),
        {
            "overview": overview,
            "payment_url": payment_update_url(request) if access.can_manage else None,
            # "Réactiver l'abonnement" is offered here too once cancelled.
            "action_token": new_token(),
        },
    )


@workspace_view(Capability.VIEW_BILLING)
@require_GET
def subscription_credits(request: WorkspaceRequest) -> HttpResponse:
    """The credits remaining card alone, polled every 30 s by the Overview."""
    card, _extra = credits_card(request.workspace, now=timezone.now())
    if card is None:
        # The plan hides the balance (docs/rules/credits.md#balance-display): the polled card goes away.
        return vary(HttpResponse(""))
    return vary(
        render(
            request,
            "billing/pages/partials/credits_card.html",
            {**base_context(request), "credits": card},
        )
    )
