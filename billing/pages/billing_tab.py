"""The Billing tab (invoices and credit purchases, ten per page each) and the credit
purchase history as CSV."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from billing.pages import display
from billing.pages.billing_tab_selectors import billing_page, purchase_invoices
from billing.pages.responses import PANELS, base_context, htmx_target, render_tab, vary
from credits import selectors as credit_selectors
from invoices.exports import month_of
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.permissions import Capability

#: The htmx targets of the two paginated tables: each is a ``{% partialdef %}`` of the panel.
TABLES = {target: f"{PANELS['billing']}#{target}" for target in ("invoices-card", "purchases-card")}


@workspace_view(Capability.VIEW_BILLING)
@require_GET
def subscription_billing(request: WorkspaceRequest) -> HttpResponse:
    """Billing: invoices and credit purchases, ten per page each; for htmx, only the
    table whose page changed."""
    billing = billing_page(
        request.workspace,
        invoices_page=request.GET.get("invoices_page"),
        purchases_page=request.GET.get("purchases_page"),
    )
    table = TABLES.get(htmx_target(request) or "")
    if table is not None:
        return vary(render(request, table, {**base_context(request), "billing": billing}))
    # The accounting export and the month's ZIP default to the current month (docs/rules/invoices.md#accounting-export).
    return render_tab(
        request, "billing", _("Billing"), {"billing": billing, "accounting_month": month_of(timezone.now())}
    )


@workspace_view(Capability.VIEW_BILLING)
@require_GET
def credit_purchases_csv(request: WorkspaceRequest) -> HttpResponse:
    """The credit purchase history as CSV, headers in the reader's language: date, credits,
    amount paid VAT included (empty for credits offered), currency, how they were
    obtained and the invoice that paid them (docs/rules/invoices.md#invoice-list)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            pgettext("purchases", "Date"),
            pgettext("purchases", "Credits"),
            pgettext("purchases", "Amount incl. VAT"),
            pgettext("purchases", "Currency"),
            pgettext("purchases", "Kind"),
            pgettext("purchases", "Invoice"),
        ]
    )
    grants = list(credit_selectors.purchase_history(request.workspace))
    paid_by = purchase_invoices(request.workspace, grants)
    for grant in grants:
        invoice = paid_by.get(grant.source)
        writer.writerow(
            [
                display.csv_date(grant.created_at),
                grant.amount,
                display.csv_amount(grant.amount_paid_cents, grant.currency)
                if grant.amount_paid_cents
                else "",
                grant.currency,
                pgettext("purchases", "Bought")
                if grant.amount_paid_cents
                else pgettext("purchases", "Offered"),
                invoice.number if invoice is not None else "",
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="credit-purchases.csv"'
    return response
