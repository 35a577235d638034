"""Cancellation and reactivation (docs/rules/lifecycle.md#cancel,
docs/rules/lifecycle.md#reactivate): one of the eight reasons (free text for "Other"),
then confirmation; access stays until the end of the period."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing import services
from billing.pages import display
from billing.pages.confirmations import Outcome, error_message, run_once
from billing.pages.forms import ActionForm, CancelForm, new_token
from billing.pages.responses import base_context, flash_and_redirect, is_partial, modal_done
from billing.pages.subscription_selectors import settings_page
from domain.calendar import day_of
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.errors import DomainError
from workspaces.permissions import Capability


@workspace_view(Capability.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def subscription_cancel(request: WorkspaceRequest) -> HttpResponse:
    """The cancellation modal (a page without htmx): a reason, then confirmation."""
    workspace = request.workspace
    status = 200
    if request.method == "POST":
        form = CancelForm(request.POST)
        if form.is_valid():
            reason, comment = form.cleaned_data["reason"], form.cleaned_data["comment"]

            def run() -> Outcome:
                preview = services.preview_cancel(workspace=workspace, reason=reason, comment=comment)
                result = services.apply_cancel(
                    workspace=workspace,
                    actor=request.membership,
                    reason=reason,
                    comment=comment,
                    preview=preview,
                )
                until = display.day(
                    day_of(result.subscription.current_period_end, workspace.billing_zone), "long"
                )
                return Outcome(
                    messages.SUCCESS,
                    _("Your subscription is cancelled. You keep access until %(date)s.") % {"date": until},
                )

            try:
                outcome = run_once(request, "cancel", form.cleaned_data["token"], run)
            except DomainError as exc:
                form.add_error(None, error_message(exc))
            else:
                return modal_done(request, outcome, "subscription_settings")
        status = 400
    else:
        form = CancelForm(initial={"token": new_token()})
    context = {
        **base_context(request),
        "form": form,
        "sub": settings_page(workspace).subscription,
        "action_token": new_token(),
    }
    if is_partial(request):
        return render(request, "billing/pages/partials/cancel_modal.html", context)
    return render(request, "billing/pages/cancel.html", context, status=status)


@workspace_view(Capability.MANAGE_BILLING)
@require_POST
def subscription_reactivate(request: WorkspaceRequest) -> HttpResponse:
    """ "Réactiver l'abonnement": undo the cancellation before the period ends."""
    workspace = request.workspace
    form = ActionForm(request.POST)
    form.is_valid()

    def run() -> Outcome:
        preview = services.preview_reactivate(workspace=workspace)
        services.apply_reactivate(workspace=workspace, actor=request.membership, preview=preview)
        return Outcome(
            messages.SUCCESS, _("Your subscription is reactivated. It renews automatically again.")
        )

    try:
        outcome = run_once(request, "reactivate", form.cleaned_data.get("token", ""), run)
    except DomainError as exc:
        outcome = Outcome(messages.ERROR, error_message(exc))
    # Back to the tab the button was on (the Overview or Settings).
    back = "subscription_overview" if request.POST.get("back") == "overview" else "subscription_settings"
    return flash_and_redirect(request, outcome, back)
