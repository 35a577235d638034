"""The switch to annual billing: the savings, what is due now, the irreversibility
(docs/rules/lifecycle.md#switch-to-annual). A modal for htmx, else a page."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing import services
from billing.pages import display
from billing.pages.confirmations import Outcome, error_message, needs_card, outcome_of, run_once
from billing.pages.forms import ActionForm, new_token
from billing.pages.responses import base_context, is_partial, modal_done
from billing.pages.subscription_selectors import annual_offer
from billing.services.core import Preview
from subscriptions import errors as billing_errors
from subscriptions import selectors as billing_selectors
from teams import selectors as team_selectors
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.errors import DomainError
from workspaces.permissions import Capability


@workspace_view(Capability.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def subscription_annual(request: WorkspaceRequest) -> HttpResponse:
    """The switch to annual billing: the savings, what is due now, the irreversibility."""
    workspace = request.workspace
    error: str | None = None
    error_needs_card = False
    status = 200
    if request.method == "POST":
        form = ActionForm(request.POST)
        form.is_valid()
        fingerprint, token = form.cleaned_data.get("fingerprint", ""), form.cleaned_data.get("token", "")

        def run() -> Outcome:
            result = services.apply_switch_to_annual(
                workspace=workspace, actor=request.membership, preview=fingerprint
            )
            return outcome_of(result, _("Your subscription is now billed annually."))

        try:
            outcome = run_once(request, "annual", token, run)
        except DomainError as exc:
            error, status = error_message(exc), 409 if isinstance(exc, billing_errors.StalePreview) else 400
            error_needs_card = needs_card(exc)
        else:
            return modal_done(request, outcome, "subscription_overview")
    subscription = billing_selectors.subscription_of(workspace)
    preview: Preview | None = None
    try:
        preview = services.preview_switch_to_annual(workspace=workspace)
    except DomainError as exc:
        error_needs_card = error_needs_card or (not error and needs_card(exc))
        error = error or error_message(exc)
    offer = annual_offer(subscription, coterm_seats=team_selectors.coterm_paid_seat_count(workspace))
    context = {
        **base_context(request),
        "subscription": subscription,
        "preview": preview,
        "preview_lines": display.preview_lines(preview) if preview else [],
        "offer": offer,
        "error": error,
        "error_needs_card": error_needs_card,
        "form": ActionForm(
            initial={"fingerprint": preview.fingerprint if preview else "", "token": new_token()}
        ),
    }
    if is_partial(request):
        # htmx does not swap error statuses: the modal shows its error with a 200.
        return render(request, "billing/pages/partials/annual_modal.html", context)
    return render(request, "billing/pages/annual.html", context, status=status)
