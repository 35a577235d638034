"""Plan selection: the plans side by side, the billing engine's exact preview of the
chosen one, then its confirmation (docs/rules/lifecycle.md#subscribe,
docs/rules/lifecycle.md#change-plan)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billing import services
from billing.pages import display
from billing.pages.change_effects import effect_lines
from billing.pages.confirmations import Outcome, error_message, needs_card, outcome_of, run_once
from billing.pages.forms import PlanChoiceForm, PlanConfirmForm, new_token
from billing.pages.responses import base_context, flash_and_redirect
from billing.pages.subscription_selectors import plan_options
from billing.services.core import Preview
from domain.calendar import day_of
from domain.periods import Interval
from subscriptions import errors as billing_errors
from subscriptions import selectors as billing_selectors
from subscriptions.models import SubscriptionStatus
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.errors import DomainError
from workspaces.permissions import Capability


def _plans_page(
    request: WorkspaceRequest, *, error: str | None = None, status: int = 200, needs_card: bool = False
) -> HttpResponse:
    subscription = billing_selectors.subscription_of(request.workspace)
    paid = not subscription.plan.is_free
    interval = subscription.price.interval if paid else None
    return render(
        request,
        "billing/pages/plans.html",
        {
            **base_context(request),
            "subscription": subscription,
            "options": plan_options(request.workspace, subscription),
            # The billing period (docs/rules/lifecycle.md#change-plan): the own plan's annual
            # price is the switch to annual; annual stays annual until its period ends.
            "annual_switch": interval == Interval.MONTH
            and billing_selectors.annual_price_for(subscription.plan, subscription.price.currency)
            is not None,
            "annual_until": (
                day_of(subscription.current_period_end, request.workspace.billing_zone)
                if interval == Interval.YEAR
                else None
            ),
            "error": error,
            "error_needs_card": needs_card,
        },
        status=status,
    )


@workspace_view(Capability.VIEW_PLAN)
@require_GET
def subscription_plans(request: WorkspaceRequest) -> HttpResponse:
    """The plans side by side, prices per interval, the current one marked."""
    return _plans_page(request)


def _plan_preview(request: WorkspaceRequest, price_id: int, trial: bool) -> Preview:
    subscription = billing_selectors.subscription_of(request.workspace)
    if subscription.plan.is_free:
        return services.preview_subscribe(workspace=request.workspace, price_id=price_id, trial=trial)
    return services.preview_change_plan(workspace=request.workspace, price_id=price_id)


def _render_plan_preview(
    request: WorkspaceRequest,
    preview: Preview,
    *,
    price_id: int,
    trial: bool,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    subscription = billing_selectors.subscription_of(request.workspace)
    return render(
        request,
        "billing/pages/plan_preview.html",
        {
            **base_context(request),
            "subscription": subscription,
            "preview": preview,
            "preview_lines": display.preview_lines(preview),
            "preview_effects": effect_lines(preview),
            "form": PlanConfirmForm(
                initial={
                    "price": price_id,
                    "trial": trial,
                    "fingerprint": preview.fingerprint,
                    "token": new_token(),
                }
            ),
            "trial": trial,
            "error": error,
        },
        status=status,
    )


@workspace_view(Capability.MANAGE_BILLING)
@require_GET
def subscription_plan_preview(request: WorkspaceRequest) -> HttpResponse:
    """The billing engine's exact preview of the chosen plan, before "Confirmer"."""
    form = PlanChoiceForm(request.GET)
    if not form.is_valid():
        return _plans_page(request, error=_("Choose a plan.") if request.GET else None)
    price_id, trial = form.cleaned_data["price"], bool(form.cleaned_data["trial"])
    try:
        preview = _plan_preview(request, price_id, trial)
    except DomainError as exc:
        return _plans_page(request, error=error_message(exc), status=400, needs_card=needs_card(exc))
    return _render_plan_preview(request, preview, price_id=price_id, trial=trial)


@workspace_view(Capability.MANAGE_BILLING)
@require_POST
def subscription_plan_confirm(request: WorkspaceRequest) -> HttpResponse:
    form = PlanConfirmForm(request.POST)
    if not form.is_valid():
        return _plans_page(request, error=_("Choose a plan."), status=400)
    price_id, trial = form.cleaned_data["price"], bool(form.cleaned_data["trial"])
    fingerprint, token = form.cleaned_data["fingerprint"], form.cleaned_data["token"]
    workspace, actor = request.workspace, request.membership

    def run() -> Outcome:
        subscription = billing_selectors.subscription_of(workspace)
        if subscription.plan.is_free:
            result = services.apply_subscribe(
                workspace=workspace, actor=actor, price_id=price_id, preview=fingerprint, trial=trial
            )
            plan = result.subscription.plan
            if result.subscription.status == SubscriptionStatus.TRIALING and result.subscription.trial_end:
                headline = _("Your free trial of %(plan)s has started. It ends on %(date)s.") % {
                    "plan": plan.name,
                    "date": display.day(day_of(result.subscription.trial_end, workspace.billing_zone)),
                }
            else:
                headline = _("Welcome to %(plan)s.") % {"plan": plan.name}
            return outcome_of(result, headline)
        result = services.apply_change_plan(
            workspace=workspace, actor=actor, price_id=price_id, preview=fingerprint
        )
        return outcome_of(result, _("Your plan is now %(plan)s.") % {"plan": result.subscription.plan.name})

    try:
        outcome = run_once(request, "plan", token, run)
    except billing_errors.StalePreview as exc:
        try:
            preview = _plan_preview(request, price_id, trial)
        except DomainError as again:
            return _plans_page(request, error=error_message(again), status=409)
        return _render_plan_preview(
            request, preview, price_id=price_id, trial=trial, error=error_message(exc), status=409
        )
    except DomainError as exc:
        return _plans_page(request, error=error_message(exc), status=400, needs_card=needs_card(exc))
    return flash_and_redirect(request, outcome, "subscription_overview")
