""" "Payer maintenant": an owner or admin pays one unpaid invoice at once with the card on
file, after confirming the amount and the card (docs/rules/dunning.md#payer-maintenant)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.pages import display
from billing.pages.confirmations import Outcome, error_message, run_once
from billing.pages.forms import ActionForm, new_token
from billing.pages.responses import base_context, is_partial, modal_done, payment_update_url
from billing.services.collection import pay_now
from gateways.base import get_gateway
from invoices.models import PAYABLE_STATUSES, Invoice
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.errors import DomainError
from workspaces.permissions import Capability


@workspace_view(Capability.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def invoice_pay(request: WorkspaceRequest, invoice_id: int) -> HttpResponse:
    """GET: what will be charged, to which card; POST: the charge, once per confirmation."""
    workspace = request.workspace
    invoice = Invoice.objects.filter(workspace=workspace, pk=invoice_id).first()
    if invoice is None:
        raise Http404
    amount = display.money(invoice.amount_due_cents, invoice.currency)
    form = ActionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():

            def run() -> Outcome:
                outcome = pay_now(
                    workspace=workspace, actor=request.membership, invoice_id=invoice.pk, now=timezone.now()
                )
                if outcome.succeeded:
                    return Outcome(
                        messages.SUCCESS,
                        _("Invoice %(number)s is paid: %(amount)s.")
                        % {"number": invoice.number, "amount": amount},
                    )
                if outcome.requires_action:
                    return Outcome(
                        messages.WARNING,
                        _(
                            "Your bank asks you to confirm the payment of %(amount)s: use "
                            '"Confirm the payment" on invoice %(number)s.'
                        )
                        % {"number": invoice.number, "amount": amount},
                    )
                return Outcome(
                    messages.ERROR,
                    _(
                        "The payment of %(amount)s was declined: %(reason)s Update the payment method and try again."
                    )
                    % {"amount": amount, "reason": outcome.message},
                )

            try:
                outcome = run_once(request, f"pay-invoice-{invoice.pk}", form.cleaned_data["token"], run)
            except DomainError as exc:
                form.add_error(None, error_message(exc))
            else:
                return modal_done(request, outcome, "subscription_billing")
        status = 400
    context = {
        **base_context(request),
        "invoice": invoice,
        "amount": amount,
        "payable": invoice.status in PAYABLE_STATUSES,
        "card": get_gateway().default_payment_method(workspace),
        "payment_url": payment_update_url(request),
        "form": form,
        "action_token": new_token(),
    }
    template = (
        "billing/pages/partials/pay_invoice_modal.html"
        if is_partial(request)
        else "billing/pages/pay_invoice.html"
    )
    return render(request, template, context, status=status)
