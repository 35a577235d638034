"""The Billing tab: the invoices and the credit purchase history, a page of each."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, QuerySet

from billing.pages.cards import BillingPage
from credits import selectors as credit_selectors
from credits.models import CreditGrant
from invoices import selectors as invoice_selectors
from invoices.models import Charge, ChargeStatus, Invoice
from workspaces.models import Workspace

#: Rows per page of the invoices table and of the credit purchase history
#: (docs/rules/invoices.md#invoice-list).
PAGE_SIZE = 10


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def paginate(queryset: QuerySet[Invoice] | QuerySet[CreditGrant], number: str | None) -> Page:  # type: ignore[type-arg]
    """One page (two queries: count and rows); a number past the end shows the last page."""
    return Paginator(queryset, PAGE_SIZE).get_page(_page_number(number))


def invoice_rows(workspace: Workspace) -> QuerySet[Invoice]:
    # The table shows no line: drop the lines prefetch of the invoices' own selector.
    # An invoice whose charge waits for the payer's authentication offers to confirm it.
    waiting = Charge.objects.filter(invoice=OuterRef("pk"), status=ChargeStatus.REQUIRES_ACTION)
    return (
        invoice_selectors.invoices_of(workspace)
        .prefetch_related(None)
        .annotate(awaits_authentication=Exists(waiting))
    )


def purchase_invoices(workspace: Workspace, grants: Iterable[CreditGrant]) -> dict[str, Invoice]:
    """The invoice each purchased grant was paid by, by the grant's source
    (``invoice:<id>``, docs/rules/plans.md#extra-credits); one query."""
    ids = {
        int(source.removeprefix("invoice:")): source
        for source in (grant.source for grant in grants)
        if source.startswith("invoice:") and source.removeprefix("invoice:").isdigit()
    }
    if not ids:
        return {}
    invoices = Invoice.objects.filter(workspace=workspace, pk__in=ids).only("pk", "number", "workspace_id")
    return {ids[invoice.pk]: invoice for invoice in invoices}


def billing_page(
    workspace: Workspace, *, invoices_page: str | None, purchases_page: str | None
) -> BillingPage:
    """The Billing tab: ten invoices and ten credit purchases per page with the invoices
    that paid them, and the account balance (six queries)."""
    invoices = paginate(invoice_rows(workspace), invoices_page)
    purchases = paginate(credit_selectors.purchase_history(workspace), purchases_page)
    paid_by = purchase_invoices(workspace, purchases)
    for grant in purchases:
        grant.invoice = paid_by.get(grant.source)  # type: ignore[attr-defined]
    return BillingPage(
        invoices=invoices,
        purchases=purchases,
        currency=workspace.currency,
        account_credit_cents=max(0, invoice_selectors.account_balance_cents(workspace)),
        keep_invoices=f"&invoices_page={invoices.number}" if invoices.number > 1 else "",
        keep_purchases=f"&purchases_page={purchases.number}" if purchases.number > 1 else "",
    )
