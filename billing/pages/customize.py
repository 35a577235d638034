"""Customization: extra seats, extra credits and add-ons with a live cost summary, then
"Confirmer" (docs/rules/lifecycle.md#customize). Credit packs are sold on every plan
selling one, Free included; extra seats and add-ons with a paid plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
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
from billing.pages.change_effects import effect_lines
from billing.pages.confirmations import Outcome, error_message, error_outcome, outcome_of, run_once
from billing.pages.forms import CustomizeForm, new_token
from billing.pages.responses import base_context, flash_and_redirect
from billing.pages.subscription_selectors import subscription_card
from billing.services.changes import MAX_ADDON_QUANTITY
from subscriptions import errors as billing_errors
from subscriptions import pricing
from subscriptions import selectors as billing_selectors
from subscriptions.models import AddOn, Subscription
from teams import selectors as team_selectors
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.errors import DomainError
from workspaces.permissions import Capability

PAGE = "billing/pages/customize.html"
#: The prefix of an add-on's quantity field; the field's wrapper carries the same id, so
#: a link can lead to one add-on (``…/customize/?addon-ai-credits=1#addon-ai-credits``).
ADDON_FIELD = "addon-"


@dataclass(frozen=True)
class Offer:
    """What the workspace's plan sells on this page."""

    seats: bool
    packs: bool
    addons: tuple[AddOn, ...]

    @property
    def anything(self) -> bool:
        return self.seats or self.packs or bool(self.addons)


def _offer(subscription: Subscription) -> Offer:
    plan = subscription.plan
    paid = not plan.is_free
    return Offer(
        seats=paid and bool(plan.allows_extras) and not plan.seats_are_free,
        packs=bool(plan.credit_pack_size and subscription.price.credit_pack_amount),
        addons=tuple(billing_selectors.addon_catalog(subscription.price.currency)) if paid else (),
    )


class CustomizeAddOnsForm(CustomizeForm):
    """The customization form with one quantity field per add-on sold."""

    def __init__(self, *args: Any, addons: tuple[AddOn, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.addons = addons
        for addon in addons:
            # Left out, an add-on stays as it is.
            self.fields[ADDON_FIELD + addon.code] = forms.IntegerField(
                required=False,
                label=addon.name,
                min_value=0,
                max_value=MAX_ADDON_QUANTITY,
                error_messages={"invalid": _("Enter a whole number.")},
                widget=forms.NumberInput(attrs={"min": 0, "max": MAX_ADDON_QUANTITY, "inputmode": "numeric"}),
            )

    def addon_fields(self) -> list[tuple[AddOn, forms.BoundField]]:
        return [(addon, self[ADDON_FIELD + addon.code]) for addon in self.addons]

    def wanted_addons(self) -> dict[str, int]:
        """The quantities asked, the add-ons left out of the request excepted."""
        values = {addon.code: self.cleaned_data.get(ADDON_FIELD + addon.code) for addon in self.addons}
        return {code: int(value) for code, value in values.items() if value is not None}


def _current(subscription: Subscription, offer: Offer) -> dict[str, Any]:
    """The form's values as the subscription stands (no pack bought yet)."""
    quantities = {line.code: line.quantity for line in billing_selectors.addon_lines(subscription)}
    return {
        "extra_seats": subscription.extra_seats,
        "credit_packs": 0,
        **{ADDON_FIELD + addon.code: quantities.get(addon.code, 0) for addon in offer.addons},
    }


def _bound_data(query: Any, subscription: Subscription, offer: Offer) -> dict[str, Any] | None:
    """The form's data from a query string, or None when it asks for nothing: a link may
    name only what it is about (``?credit_packs=1``), the rest stays as it is."""
    current = _current(subscription, offer)
    if not any(name in query for name in current):
        return None
    return {name: query.get(name, value) for name, value in current.items()}


def _form(data: Any, subscription: Subscription, offer: Offer) -> CustomizeAddOnsForm:
    plan = subscription.plan
    # Extra seats fill up to the member cap (the plan's, 3 on a mobile subscription,
    # docs/rules/plans.md#member-caps).
    cap = max(0, team_selectors.member_cap(subscription) - int(plan.included_seats))
    return CustomizeAddOnsForm(
        data,
        initial=_current(subscription, offer),
        max_extra_seats=cap,
        credits_label=display.credit_packs_label(int(plan.credit_pack_size)),
        addons=offer.addons,
    )


def _addons_asked(form: CustomizeAddOnsForm) -> dict[str, int] | None:
    return form.wanted_addons() if form.addons else None


def _summary(
    request: WorkspaceRequest, form: CustomizeAddOnsForm, subscription: Subscription
) -> CustomizeSummary:
    if not form.is_valid():
        errors = [str(e) for field in form.errors.values() for e in field]
        return CustomizeSummary(None, " ".join(errors), 0, 0, 0)
    seats, packs = form.cleaned_data["extra_seats"], form.cleaned_data["credit_packs"] or 0
    credits = packs * int(subscription.plan.credit_pack_size)
    try:
        preview = services.preview_customize(
            workspace=request.workspace, extra_seats=seats, credit_packs=packs, addons=_addons_asked(form)
        )
    except DomainError as exc:
        return CustomizeSummary(None, error_message(exc), seats, packs, credits)
    return CustomizeSummary(preview, None, seats, packs, credits)


def _context(
    request: WorkspaceRequest, form: CustomizeAddOnsForm, subscription: Subscription, offer: Offer
) -> dict[str, Any]:
    summary = _summary(request, form, subscription) if form.is_bound else None
    card = subscription_card(
        request.workspace, subscription, coterm_seats=0, addons=[], card=None, now=timezone.now()
    )
    return {
        **base_context(request),
        "subscription": subscription,
        "card": card,
        "offer": offer,
        "form": form,
        "summary": summary,
        "effects": effect_lines(summary.preview) if summary and summary.preview else [],
        "addon_rows": [
            (
                addon,
                field,
                pricing.addon_period_amount(int(addon.monthly_amount), 1, subscription.price.interval),
            )
            for addon, field in form.addon_fields()
        ],
        "payment_card": billing_selectors.payment_method_of(request.workspace),
        "token": form.data.get("token") or new_token() if form.is_bound else new_token(),
    }


def _outcome_message(result: services.ApplyResult, before: Subscription, packs: int) -> str:
    parts = [_("Your plan has been customized.")]
    if result.subscription.extra_seats != before.extra_seats:
        parts.append(
            ngettext("%(count)s extra seat.", "%(count)s extra seats.", result.subscription.extra_seats)
            % {"count": result.subscription.extra_seats}
        )
    if packs:
        parts.append(
            _("%(credits)s extra credits bought.")
            % {"credits": display.number(packs * int(before.plan.credit_pack_size))}
        )
    effects = result.preview.effects
    if effects is not None:
        for addon in effects.addons:
            if addon.after > addon.before:
                parts.append(_("%(addon)s add-on added.") % {"addon": addon.name})
            elif addon.after < addon.before:
                parts.append(_("%(addon)s add-on removed.") % {"addon": addon.name})
    return " ".join(parts)


@workspace_view(Capability.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def subscription_customize(request: WorkspaceRequest) -> HttpResponse:
    """Extra seats, extra credits and add-ons with a live cost summary, then "Confirmer"."""
    workspace, actor = request.workspace, request.membership
    subscription = billing_selectors.subscription_of(workspace)
    offer = _offer(subscription)
    if request.method == "GET":
        data = _bound_data(request.GET, subscription, offer)
        return render(request, PAGE, _context(request, _form(data, subscription, offer), subscription, offer))
    form = _form(request.POST, subscription, offer)
    if not form.is_valid():
        return render(request, PAGE, _context(request, form, subscription, offer), status=400)
    seats, packs = form.cleaned_data["extra_seats"], form.cleaned_data["credit_packs"] or 0
    addons = _addons_asked(form)
    fingerprint, token = form.cleaned_data["fingerprint"], form.cleaned_data["token"]

    def run() -> Outcome:
        result = services.apply_customize(
            workspace=workspace,
            actor=actor,
            extra_seats=seats,
            credit_packs=packs,
            addons=addons,
            preview=fingerprint,
        )
        return outcome_of(result, _outcome_message(result, subscription, packs))

    try:
        outcome = run_once(request, "customize", token, run)
    except DomainError as exc:
        refusal = error_outcome(exc)
        messages.add_message(request, refusal.level, refusal.message, extra_tags=refusal.extra_tags)
        fresh = billing_selectors.subscription_of(workspace)
        status = 409 if isinstance(exc, billing_errors.StalePreview) else 400
        offer = _offer(fresh)
        return render(
            request, PAGE, _context(request, _form(request.POST, fresh, offer), fresh, offer), status=status
        )
    return flash_and_redirect(request, outcome, "subscription_overview")


@workspace_view(Capability.MANAGE_BILLING)
@require_GET
def subscription_customize_summary(request: WorkspaceRequest) -> HttpResponse:
    """The live cost summary (htmx, on each change of the numbers)."""
    subscription = billing_selectors.subscription_of(request.workspace)
    offer = _offer(subscription)
    data = _bound_data(request.GET, subscription, offer) or _current(subscription, offer)
    context = _context(request, _form(data, subscription, offer), subscription, offer)
    return render(request, "billing/pages/partials/customize_summary.html", context)
