"""How the subscription pages answer: the full page, or for htmx the fragment it asked
for (a tab, a paginated table, a modal), and what a modal's confirmation sends back.

htmx requests are recognised by django-htmx's ``request.htmx`` (its middleware), as
everywhere in the project; a history restore wants the whole page again.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import trigger_client_event

from billing.pages.cards import Access
from billing.pages.confirmations import Outcome
from workspaces.access import WorkspaceRequest

FULL_TAB = "billing/pages/tabbed.html"
#: The tab strip and its panel alone (a ``{% partialdef %}`` of the page).
TABS_PARTIAL = f"{FULL_TAB}#tabs"
PANELS = {
    "overview": "billing/pages/partials/overview.html",
    "billing": "billing/pages/partials/billing.html",
    "settings": "billing/pages/partials/settings.html",
}

# Events the pages listen to (HX-Trigger): close the open <dialog>, refresh the tab.
CLOSE_MODAL_EVENT = "close-modal"
CHANGED_EVENT = "subscription-changed"


def is_partial(request: WorkspaceRequest) -> bool:
    """An htmx request that wants a fragment (not a history restore, which wants the page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def htmx_target(request: WorkspaceRequest) -> str | None:
    """The id of the element an htmx request swaps, ``None`` for a full page."""
    return request.htmx.target if is_partial(request) else None


def vary(response: HttpResponse) -> HttpResponse:
    # The same URL answers a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def base_context(request: WorkspaceRequest) -> dict[str, Any]:
    return {
        "workspace": request.workspace,
        "access": Access.of(request.membership),
        "nav": "subscription",
    }


def render_tab(request: WorkspaceRequest, tab: str, title: str, context: dict[str, Any]) -> HttpResponse:
    """A tab: the whole page, or for htmx the tab strip and its panel."""
    context = {
        **base_context(request),
        **context,
        "tab": tab,
        "tab_title": title,
        "panel_template": PANELS[tab],
    }
    template = TABS_PARTIAL if is_partial(request) else FULL_TAB
    return vary(render(request, template, context))


def payment_update_url(request: WorkspaceRequest) -> str | None:
    """BILLING's "Mettre à jour le paiement" view (redirects to the secure payment page)."""
    try:
        return reverse("subscription_payment_method", kwargs={"workspace_id": request.workspace.pk})
    except NoReverseMatch:
        return None


def flash_and_redirect(request: WorkspaceRequest, outcome: Outcome, to: str) -> HttpResponse:
    messages.add_message(request, outcome.level, outcome.message, extra_tags=outcome.extra_tags)
    return redirect(to, workspace_id=request.workspace.pk)


def modal_done(request: WorkspaceRequest, outcome: Outcome, to: str) -> HttpResponse:
    """PRG for a plain form; for htmx, close the modal and refresh the tab in place."""
    messages.add_message(request, outcome.level, outcome.message, extra_tags=outcome.extra_tags)
    if not is_partial(request):
        return redirect(to, workspace_id=request.workspace.pk)
    response = HttpResponse(status=204)
    trigger_client_event(response, CLOSE_MODAL_EVENT, {})
    trigger_client_event(response, CHANGED_EVENT, {})
    return response
