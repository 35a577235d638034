"""The local secure payment page, and the workspace action that sends an admin there."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing import services
from gateways.base import get_gateway
from gateways.local.forms import CardForm
from gateways.local.gateway import read_setup_token
from workspaces import permissions, selectors
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.errors import DomainError
from workspaces.permissions import Capability


def _safe_return_url(request: HttpRequest, url: str, fallback: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback


@workspace_view(Capability.MANAGE_BILLING)
@require_POST
def payment_method_update(request: WorkspaceRequest) -> HttpResponse:
    """ "Mettre à jour le paiement": off to the gateway's secure page, then back here."""
    workspace = request.workspace
    home = reverse("workspace_home", args=[workspace.pk])
    back = request.POST.get("next", "")
    return_url = back if back.startswith(f"/{workspace.pk}/") else home
    return redirect(get_gateway().setup_url(workspace, _safe_return_url(request, return_url, home)))


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
        membership = selectors.membership_for(user=request.user, workspace_id=workspace_id)  # type: ignore[arg-type]
    except (ValueError, DomainError) as exc:
        raise Http404("No such workspace.") from exc
    if membership is None:
        raise Http404("No such workspace.")
    workspace = membership.workspace
    if not permissions.allows(membership.role, Capability.MANAGE_BILLING):
        return render(
            request,
            "403.html",
            {"message": permissions.REFUSAL_MESSAGES[Capability.MANAGE_BILLING]},
            status=403,
        )
    home = reverse("workspace_home", args=[workspace.pk])
    back = _safe_return_url(request, return_url, home)
    now = timezone.now()
    form = CardForm(request.POST or None, today=now.date())
    if request.method == "POST" and form.is_valid():
        month, year = form.cleaned_data["expiry"]
        try:
            method = services.payment_method_save(
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
                % {"brand": method.brand, "last4": method.last4},
            )
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
