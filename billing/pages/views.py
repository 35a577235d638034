"""The subscription pages (seed 001, SPEC.md "Subscription page"): the Overview, Billing
and Settings tabs, plan selection, customization, the annual switch, cancellation.

One view, two renderings: the full page, or for htmx the fragment it asked for (a tab,
a paginated table, a modal, the live cost summary). Every money-moving POST is
CSRF-protected (Django's middleware), permission-checked (``workspace_view`` here and the
billing services again), confirms the exact preview it showed (its fingerprint) and is
idempotent on double submit (a one-time token replays the first result).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from billing import services
from billing.pages import selectors as pages
from billing.pages.forms import (
    ActionForm,
    CancelForm,
    CustomizeForm,
    PlanChoiceForm,
    PlanConfirmForm,
    new_token,
)
from billing.services.core import ApplyResult, Preview
from credits import selectors as credit_selectors
from subscriptions import errors as billing_errors
from subscriptions import selectors as billing_selectors
from subscriptions.models import SubscriptionStatus
from teams import selectors as team_selectors
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.errors import DomainError
from workspaces.formatting import format_date, format_money, format_number
from workspaces.permissions import Capability
from workspaces.templatetags.formatting import active_locale

FULL_TAB = "billing/pages/tabbed.html"
TABS_PARTIAL = "billing/pages/partials/tabs.html"
PANELS = {
    "overview": "billing/pages/partials/overview.html",
    "billing": "billing/pages/partials/billing.html",
    "settings": "billing/pages/partials/settings.html",
}
#: A double submit waits at most this long for the first request's result.
REPLAY_WAIT_SECONDS = 10.0
#: How long a confirmation's result is remembered for replay.
RESULT_TTL_SECONDS = 24 * 3600
_PENDING = "pending"

# Events the pages listen to (HX-Trigger): close the open <dialog>, refresh the tab.
CLOSE_MODAL_EVENT = "close-modal"
CHANGED_EVENT = "subscription-changed"


# --- helpers ---------------------------------------------------------------------------


def _is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def _htmx_target(request: HttpRequest) -> str | None:
    htmx = getattr(request, "htmx", None)
    return htmx.target if htmx else None  # type: ignore[union-attr]


def _vary(response: HttpResponse) -> HttpResponse:
    # The same URL answers a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _base_context(request: WorkspaceRequest) -> dict[str, Any]:
    return {
        "workspace": request.workspace,
        "access": pages.Access.of(request.membership),
        "nav": "subscription",
    }


def payment_update_url(request: WorkspaceRequest) -> str | None:
    """BILLING's "Mettre à jour le paiement" view (redirects to the secure payment page)."""
    try:
        return reverse("subscription_payment_method", kwargs={"workspace_id": request.workspace.pk})
    except NoReverseMatch:
        return None


def _error_message(exc: DomainError) -> str:
    return str(exc.message)


@dataclass(frozen=True)
class Outcome:
    """What a confirmation did, as a flash message; remembered for a double submit."""

    level: int
    message: str


def _run_once(request: WorkspaceRequest, action: str, token: str, run: Callable[[], Outcome]) -> Outcome:
    """Run ``run`` once per ``token``: a second submit of the same form (double click,
    reload of the POST) replays the first outcome instead of running again."""
    if not token:
        return run()
    key = f"subscription-page:{request.workspace.pk}:{request.membership.pk}:{action}:{token}"
    if cache.add(key, _PENDING, timeout=int(REPLAY_WAIT_SECONDS * 6)):
        try:
            outcome = run()
        except BaseException:
            cache.delete(key)
            raise
        cache.set(key, asdict(outcome), timeout=RESULT_TTL_SECONDS)
        return outcome
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while True:
        stored = cache.get(key)
        if isinstance(stored, dict):
            return Outcome(**stored)
        if stored is None:  # the first attempt failed and released the token: run again
            return _run_once(request, action, token, run)
        if time.monotonic() > deadline:
            return Outcome(messages.INFO, _("Your request is being processed. Reload the page in a moment."))
        time.sleep(0.1)


def _flash_and_redirect(request: WorkspaceRequest, outcome: Outcome, to: str) -> HttpResponse:
    messages.add_message(request, outcome.level, outcome.message)
    return redirect(to, workspace_id=request.workspace.pk)


def _modal_done(request: WorkspaceRequest, outcome: Outcome, to: str) -> HttpResponse:
    """PRG for a plain form; for htmx, close the modal and refresh the tab in place."""
    messages.add_message(request, outcome.level, outcome.message)
    if not _is_partial(request):
        return redirect(to, workspace_id=request.workspace.pk)
    response = HttpResponse(status=204)
    trigger_client_event(response, CLOSE_MODAL_EVENT, {})
    trigger_client_event(response, CHANGED_EVENT, {})
    return response


def _money(cents: int, currency: str) -> str:
    return format_money(cents, currency, active_locale())


def _payment_sentence(result: ApplyResult) -> str:
    """What happened to the money: invoice charged, payment failed, or account credit."""
    parts = []
    currency = result.preview.currency
    if result.invoice is not None:
        if result.payment is not None and not result.payment.succeeded:
            parts.append(
                _("The payment of invoice %(number)s failed: %(reason)s Update the payment method.")
                % {"number": result.invoice.number, "reason": result.payment.message}
            )
        else:
            parts.append(
                _("Invoice %(number)s: %(amount)s paid.")
                % {"number": result.invoice.number, "amount": _money(result.invoice.total_cents, currency)}
            )
    if result.account_credit_cents:
        parts.append(
            _("%(amount)s credited to your account balance, applied to your next invoice.")
            % {"amount": _money(result.account_credit_cents, currency)}
        )
    return " ".join(parts)


def _outcome(result: ApplyResult, headline: str) -> Outcome:
    sentence = _payment_sentence(result)
    failed = result.payment is not None and not result.payment.succeeded
    return Outcome(
        level=messages.WARNING if failed else messages.SUCCESS,
        message=f"{headline} {sentence}".strip(),
    )


# --- tabs -------------------------------------------------------------------------------


def _render_tab(request: WorkspaceRequest, tab: str, title: str, context: dict[str, Any]) -> HttpResponse:
    context = {
        **_base_context(request),
        **context,
        "tab": tab,
        "tab_title": title,
        "panel_template": PANELS[tab],
    }
    template = TABS_PARTIAL if _is_partial(request) else FULL_TAB
    return _vary(render(request, template, context))


@workspace_view(Capability.VIEW_PLAN)
@require_GET
def subscription_overview(request: WorkspaceRequest) -> HttpResponse:
    """Overview: plan, customization, annual switch, credits, usage chart, users."""
    access = pages.Access.of(request.membership)
    overview = pages.overview_page(request.workspace, access=access)
    return _render_tab(
        request,
        "overview",
        _("Overview"),
        {"overview": overview, "payment_url": payment_update_url(request) if access.can_manage else None},
    )


@workspace_view(Capability.VIEW_BILLING)
@require_GET
def subscription_credits(request: WorkspaceRequest) -> HttpResponse:
    """The credits remaining card alone, polled every 30 s by the Overview."""
    card, _extra = pages.credits_card(request.workspace, now=timezone.now())
    if card is None:
        # The plan hides the balance (Free, seed 000): the polled card goes away.
        return _vary(HttpResponse(""))
    return _vary(
        render(
            request,
            "billing/pages/partials/credits_card.html",
            {**_base_context(request), "credits": card},
        )
    )


@workspace_view(Capability.VIEW_BILLING)
@require_GET
def subscription_billing(request: WorkspaceRequest) -> HttpResponse:
    """Billing: invoices and credit purchases, ten per page each."""
    billing = pages.billing_page(
        request.workspace,
        invoices_page=request.GET.get("invoices_page"),
        purchases_page=request.GET.get("purchases_page"),
    )
    target = _htmx_target(request) if _is_partial(request) else None
    if target in ("invoices-card", "purchases-card"):
        name = "invoices_card" if target == "invoices-card" else "purchases_card"
        return _vary(
            render(
                request,
                f"billing/pages/partials/{name}.html",
                {**_base_context(request), "billing": billing},
            )
        )
    return _render_tab(request, "billing", _("Billing"), {"billing": billing})


@workspace_view(Capability.VIEW_PLAN)
@require_GET
def subscription_settings(request: WorkspaceRequest) -> HttpResponse:
    """Settings: the cancellation card, or reactivation once cancelled."""
    return _render_tab(
        request,
        "settings",
        _("Settings"),
        {"overview": pages.settings_page(request.workspace), "action_token": new_token()},
    )


@workspace_view(Capability.VIEW_BILLING)
@require_GET
def credit_purchases_csv(request: WorkspaceRequest) -> HttpResponse:
    """The credit purchase history as CSV (date, credits, amount paid; 0 for free grants)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["date", "credits", "amount", "currency", "kind", "source"])
    rows = credit_selectors.purchase_history(request.workspace).values_list(
        "created_at", "amount", "amount_paid_cents", "currency", "bucket", "source"
    )
    for created_at, amount, paid_cents, currency, bucket, source in rows.iterator(chunk_size=2_000):
        writer.writerow(
            [
                created_at.date().isoformat(),
                amount,
                str(Decimal(paid_cents).scaleb(-get_currency_precision(currency))),
                currency,
                bucket,
                source,
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="credit-purchases.csv"'
    return response


# --- plan selection ----------------------------------------------------------------------


def _plans_page(request: WorkspaceRequest, *, error: str | None = None, status: int = 200) -> HttpResponse:
    subscription = billing_selectors.subscription_of(request.workspace)
    return render(
        request,
        "billing/pages/plans.html",
        {
            **_base_context(request),
            "subscription": subscription,
            "options": pages.plan_options(request.workspace, subscription),
            "error": error,
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
            **_base_context(request),
            "subscription": subscription,
            "preview": preview,
            "preview_lines": pages.preview_lines(preview),
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
        return _plans_page(request, error=_error_message(exc), status=400)
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
                    "date": format_date(result.subscription.trial_end.date(), active_locale()),
                }
            else:
                headline = _("Welcome to %(plan)s.") % {"plan": plan.name}
            return _outcome(result, headline)
        result = services.apply_change_plan(
            workspace=workspace, actor=actor, price_id=price_id, preview=fingerprint
        )
        return _outcome(result, _("Your plan is now %(plan)s.") % {"plan": result.subscription.plan.name})

    try:
        outcome = _run_once(request, "plan", token, run)
    except billing_errors.StalePreview as exc:
        try:
            preview = _plan_preview(request, price_id, trial)
        except DomainError as again:
            return _plans_page(request, error=_error_message(again), status=409)
        return _render_plan_preview(
            request, preview, price_id=price_id, trial=trial, error=_error_message(exc), status=409
        )
    except DomainError as exc:
        return _plans_page(request, error=_error_message(exc), status=400)
    return _flash_and_redirect(request, outcome, "subscription_overview")


# --- customization -----------------------------------------------------------------------


def _credits_label(pack_size: int) -> str:
    if pack_size == 1_000_000:
        return _("Extra credits (in millions)")
    return _("Extra credits (packs of %(size)s credits)") % {
        "size": format_number(pack_size, active_locale())
    }


def _customize_form(request: WorkspaceRequest, data: Any, subscription: Any) -> CustomizeForm:
    plan = subscription.plan
    # Extra seats fill up to the member cap (the plan's, 3 on a mobile subscription).
    cap = max(0, team_selectors.member_cap(subscription) - int(plan.included_seats))
    return CustomizeForm(
        data,
        initial={"extra_seats": subscription.extra_seats, "credit_packs": 0},
        max_extra_seats=cap,
        credits_label=_credits_label(int(plan.credit_pack_size)),
    )


@dataclass(frozen=True)
class CustomizeSummary:
    preview: Preview | None
    error: str | None
    extra_seats: int
    credit_packs: int
    credits: int

    @property
    def lines(self) -> list[pages.PreviewLine]:
        return pages.preview_lines(self.preview) if self.preview else []


def _customize_summary(request: WorkspaceRequest, form: CustomizeForm, subscription: Any) -> CustomizeSummary:
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
        return CustomizeSummary(None, _error_message(exc), seats, packs, credits)
    return CustomizeSummary(preview, None, seats, packs, credits)


def _customize_context(request: WorkspaceRequest, form: CustomizeForm, subscription: Any) -> dict[str, Any]:
    summary = _customize_summary(request, form, subscription) if form.is_bound else None
    return {
        **_base_context(request),
        "subscription": subscription,
        "card": pages.subscription_card(
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
        form = _customize_form(request, data, subscription)
        return render(
            request, "billing/pages/customize.html", _customize_context(request, form, subscription)
        )
    form = _customize_form(request, request.POST, subscription)
    if not form.is_valid():
        context = _customize_context(request, form, subscription)
        return render(request, "billing/pages/customize.html", context, status=400)
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
                % {"credits": format_number(packs * int(subscription.plan.credit_pack_size), active_locale())}
            )
        return _outcome(result, " ".join(parts))

    try:
        outcome = _run_once(request, "customize", token, run)
    except DomainError as exc:
        messages.error(request, _error_message(exc))
        fresh = billing_selectors.subscription_of(workspace)
        form = _customize_form(request, request.POST, fresh)
        status = 409 if isinstance(exc, billing_errors.StalePreview) else 400
        return render(
            request,
            "billing/pages/customize.html",
            _customize_context(request, form, fresh),
            status=status,
        )
    return _flash_and_redirect(request, outcome, "subscription_overview")


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
    form = _customize_form(request, data, subscription)
    context = _customize_context(request, form, subscription)
    return render(request, "billing/pages/partials/customize_summary.html", context)


# --- annual switch -------------------------------------------------------------------------


@workspace_view(Capability.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def subscription_annual(request: WorkspaceRequest) -> HttpResponse:
    """The switch to annual billing: the savings, what is due now, the irreversibility."""
    workspace = request.workspace
    error: str | None = None
    status = 200
    if request.method == "POST":
        form = ActionForm(request.POST)
        form.is_valid()
        fingerprint, token = form.cleaned_data.get("fingerprint", ""), form.cleaned_data.get("token", "")

        def run() -> Outcome:
            result = services.apply_switch_to_annual(
                workspace=workspace, actor=request.membership, preview=fingerprint
            )
            return _outcome(result, _("Your subscription is now billed annually."))

        try:
            outcome = _run_once(request, "annual", token, run)
        except DomainError as exc:
            error, status = _error_message(exc), 409 if isinstance(exc, billing_errors.StalePreview) else 400
        else:
            return _modal_done(request, outcome, "subscription_overview")
    subscription = billing_selectors.subscription_of(workspace)
    preview: Preview | None = None
    try:
        preview = services.preview_switch_to_annual(workspace=workspace)
    except DomainError as exc:
        error = error or _error_message(exc)
    offer = pages.annual_offer(subscription, coterm_seats=billing_selectors.coterm_paid_seat_count(workspace))
    context = {
        **_base_context(request),
        "subscription": subscription,
        "preview": preview,
        "preview_lines": pages.preview_lines(preview) if preview else [],
        "offer": offer,
        "error": error,
        "form": ActionForm(
            initial={"fingerprint": preview.fingerprint if preview else "", "token": new_token()}
        ),
    }
    if _is_partial(request):
        # htmx does not swap error statuses: the modal shows its error with a 200.
        return render(request, "billing/pages/partials/annual_modal.html", context)
    return render(request, "billing/pages/annual.html", context, status=status)


# --- cancellation and reactivation -------------------------------------------------------


@workspace_view(Capability.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def subscription_cancel(request: WorkspaceRequest) -> HttpResponse:
    """The cancellation modal: one of the eight reasons (free text for "Other"), then
    confirmation; access stays until the end of the period."""
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
                until = format_date(result.subscription.current_period_end.date(), active_locale(), "long")
                return Outcome(
                    messages.SUCCESS,
                    _("Your subscription is cancelled. You keep access until %(date)s.") % {"date": until},
                )

            try:
                outcome = _run_once(request, "cancel", form.cleaned_data["token"], run)
            except DomainError as exc:
                form.add_error(None, _error_message(exc))
            else:
                return _modal_done(request, outcome, "subscription_settings")
        status = 400
    else:
        form = CancelForm(initial={"token": new_token()})
    overview = pages.settings_page(workspace)
    context = {
        **_base_context(request),
        "form": form,
        "sub": overview.subscription,
        "action_token": new_token(),
    }
    if _is_partial(request):
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
        outcome = _run_once(request, "reactivate", form.cleaned_data.get("token", ""), run)
    except DomainError as exc:
        outcome = Outcome(messages.ERROR, _error_message(exc))
    return _flash_and_redirect(request, outcome, "subscription_settings")
