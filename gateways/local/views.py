"""The local secure payment page, and the workspace action that sends an admin there."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from billing.services.collection import CardSaved
from gateways.base import get_gateway
from gateways.local.cards import save_test_card
from gateways.local.forms import CardForm
from gateways.local.gateway import read_setup_token
from workspaces.access import CapabilityRefused, refusal_page, resolve_membership, safe_return_url
from workspaces.errors import DomainError
from workspaces.permissions import Capability


def _report_retries(request: HttpRequest, saved: CardSaved) -> None:
    """What the new card did to the unpaid invoices (each was charged with it)."""
    if saved.paid:
        messages.success(
            request,
            ngettext(
                "%(count)s unpaid invoice has been paid with this card.",
                "%(count)s unpaid invoices have been paid with this card.",
                saved.paid,
            )
            % {"count": saved.paid},
        )
    for outcome in saved.retries:
        if not outcome.succeeded:
            messages.error(
                request, _("An unpaid invoice could not be paid: %(reason)s") % {"reason": outcome.message}
            )


@require_http_methods(["GET", "POST"])
def pay_setup(request: HttpRequest, token: str) -> HttpResponse:
    """The local gateway's "secure payment page" (outside the workspace pages): an owner or
    admin saves a test card, and only its brand, last 4 digits and expiry are kept."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        workspace_id, return_url = read_setup_token(token)
    except signing.SignatureExpired:
        return render(
            request,
            "gateways/local/pay_setup_invalid.html",
            {"reason": _("This payment link has expired. Start again from the subscription page.")},
            status=400,
        )
    except signing.BadSignature:
        return render(
            request,
            "gateways/local/pay_setup_invalid.html",
            {"reason": _("This payment link is not valid.")},
            status=400,
        )
    try:
        membership = resolve_membership(request, workspace_id, Capability.MANAGE_BILLING)
    except CapabilityRefused as refused:
        return refusal_page(request, refused)
    workspace = membership.workspace
    home = reverse("workspace_home", args=[workspace.pk])
    back = safe_return_url(request, return_url, home)
    now = timezone.now()
    form = CardForm(request.POST or None, today=now.date())
    if request.method == "POST" and form.is_valid():
        month, year = form.cleaned_data["expiry"]
        try:
            saved = save_test_card(
                workspace=workspace,
                actor=membership,
                number=form.cleaned_data["number"],
                exp_month=month,
                exp_year=year,
                now=now,
            )
        except DomainError as exc:
            form.add_error("number", exc.message)
        else:
            messages.success(
                request,
                _("Payment method saved: %(brand)s ending in %(last4)s.")
                % {"brand": saved.method.brand, "last4": saved.method.last4},
            )
            _report_retries(request, saved)
            return redirect(back)
    return render(
        request,
        "gateways/local/pay_setup.html",
        {
            "form": form,
            "workspace": workspace,
            "back": back,
            "card": get_gateway().default_payment_method(workspace),
        },
        status=400 if form.is_bound else 200,
    )
