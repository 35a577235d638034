"""The payer's Stripe pages: saving a card ("Mettre à jour le paiement") and completing
a charge the bank wants authenticated (docs/rules/payments.md#authentication).

Both run Stripe.js in the browser (card element, ``confirmCardSetup`` /
``confirmCardPayment``, 3-D Secure included); the card number never reaches us. What
the browser reports is only a prompt: the server reads the SetupIntent or PaymentIntent
back from Stripe before it saves or settles anything.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from billing.services.collection import CardSaved, card_save
from billing.services.payments import charge_answered
from gateways.base import get_gateway
from invoices.models import PAYABLE_STATUSES, Charge, ChargeStatus, Invoice
from workspaces.access import WorkspaceRequest, safe_return_url, workspace_view
from workspaces.errors import DomainError
from workspaces.formatting import format_money
from workspaces.permissions import Capability


def _report_retries(request: WorkspaceRequest, saved: CardSaved) -> None:
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
        if outcome.requires_action:
            messages.warning(
                request, _("An unpaid invoice needs your bank's confirmation: open it to confirm.")
            )
        elif not outcome.succeeded:
            messages.error(
                request, _("An unpaid invoice could not be paid: %(reason)s") % {"reason": outcome.message}
            )


def _stripe_context() -> dict[str, str]:
    return {
        "stripe_js_url": settings.STRIPE_JS_URL,
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    }


@workspace_view(Capability.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def card_setup(request: WorkspaceRequest) -> HttpResponse:
    """GET: the card form (Stripe's card element); POST: the SetupIntent the browser
    confirmed, read back from Stripe, saved as the default card."""
    workspace = request.workspace
    home = reverse("subscription_billing", args=[workspace.pk])
    back = safe_return_url(request, request.GET.get("next", ""), home)
    if not back.startswith(f"/{workspace.pk}/"):
        back = home
    gateway = get_gateway()
    error = ""
    status = 200
    if request.method == "POST":
        try:
            saved_card = gateway.finish_card_setup(workspace, request.POST.get("setup_intent", ""))
            saved = card_save(
                workspace=workspace,
                actor=request.membership,
                card=saved_card.card,
                token=saved_card.token,
                now=timezone.now(),
            )
        except DomainError as exc:
            error, status = str(exc.message), 400
        else:
            messages.success(
                request,
                _("Payment method saved: %(brand)s ending in %(last4)s.")
                % {"brand": saved.method.brand, "last4": saved.method.last4},
            )
            _report_retries(request, saved)
            return redirect(back)
    try:
        client_secret = gateway.start_card_setup(workspace)
    except DomainError as exc:
        client_secret, error, status = "", str(exc.message), 503
    return render(
        request,
        "gateways/stripe/card_setup.html",
        {
            **_stripe_context(),
            "workspace": workspace,
            "back": back,
            "card": gateway.default_payment_method(workspace),
            "client_secret": client_secret,
            "error": error,
        },
        status=status,
    )


@workspace_view(Capability.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def charge_authenticate(request: WorkspaceRequest, invoice_id: int) -> HttpResponse:
    """The page the payer is emailed when the bank asks to confirm a charge: GET shows the
    amount and runs the confirmation; POST reads the charge back from Stripe and settles it."""
    workspace = request.workspace
    invoice = Invoice.objects.filter(workspace=workspace, pk=invoice_id).first()
    if invoice is None:
        raise Http404
    billing = reverse("subscription_billing", args=[workspace.pk])
    charge = (
        Charge.objects.filter(invoice=invoice, status=ChargeStatus.REQUIRES_ACTION)
        .exclude(reference="")
        .order_by("-attempt")
        .first()
    )
    gateway = get_gateway()
    if request.method == "POST":
        if charge is None:
            return redirect(billing)
        try:
            outcome = charge_answered(
                charge_id=charge.pk, result=gateway.charge_status(charge.reference), now=timezone.now()
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect(request.path)
        if outcome.succeeded:
            messages.success(request, _("Invoice %(number)s is paid.") % {"number": invoice.number})
        elif outcome.requires_action:
            messages.warning(request, _("The payment is still waiting for your bank's confirmation."))
        else:
            nothing = _("Nothing was charged.")
            messages.error(request, f"{outcome.message} {nothing}")
        return redirect(billing)
    client_secret = ""
    error = ""
    if charge is not None and invoice.status in PAYABLE_STATUSES:
        try:
            client_secret = gateway.authentication_secret(charge.reference)
        except DomainError as exc:
            error = str(exc.message)
    locale = request.LANGUAGE_CODE
    return render(
        request,
        "gateways/stripe/charge_authenticate.html",
        {
            **_stripe_context(),
            "workspace": workspace,
            "invoice": invoice,
            "amount": format_money(invoice.amount_due_cents, invoice.currency, locale),
            "client_secret": client_secret,
            "error": error,
            "back": billing,
            "pending": getattr(invoice, "pending_change", None),
        },
    )
