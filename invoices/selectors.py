"""Reads of invoices and of the account balance, always scoped by workspace."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from domain.vat import is_reverse_charge
from invoices.models import (
    PAYABLE_STATUSES,
    AccountBalanceEntry,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from workspaces.models import Workspace


def vat_context(workspace: Workspace) -> tuple[int, bool]:
    """``(vat_rate_bp, reverse_charge)`` for the workspace's next invoice.

    The rate is the configured one (``DEFAULT_VAT_RATE_BP``, 2000 = 20 %). EU business
    customers outside the seller's country are reverse-charged: no VAT.
    """
    reverse_charge = is_reverse_charge(
        buyer_country=workspace.country,
        buyer_vat_number=workspace.vat_number,
        seller_country=settings.SELLER_COUNTRY,
    )
    return int(settings.DEFAULT_VAT_RATE_BP), reverse_charge


def account_balance_cents(workspace: Workspace) -> int:
    """The workspace's money credit: the running balance of its latest ledger entry."""
    latest = (
        AccountBalanceEntry.objects.filter(workspace=workspace)
        .order_by("-id")
        .values_list("balance_after_cents", flat=True)
        .first()
    )
    return latest or 0


def account_balance_history(workspace: Workspace) -> QuerySet[AccountBalanceEntry]:
    return AccountBalanceEntry.objects.filter(workspace=workspace).select_related("invoice").order_by("-id")


def invoices_of(workspace: Workspace) -> QuerySet[Invoice]:
    """Finalized invoices, newest first, with their lines for listing."""
    return (
        Invoice.objects.filter(workspace=workspace)
        .exclude(status="draft")
        .prefetch_related(Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")))
        .order_by("-issued_at", "-id")
    )


def get_invoice_in_workspace(workspace: Workspace, invoice_id: int) -> Invoice:
    """The workspace's invoice with that id (raises ``Invoice.DoesNotExist`` otherwise)."""
    return Invoice.objects.prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id"))
    ).get(workspace=workspace, pk=invoice_id)


def invoice_by_source(workspace: Workspace, source: str) -> Invoice | None:
    return Invoice.objects.filter(workspace=workspace, source=source).first()


def unpaid_invoice_ids(workspace: Workspace) -> list[int]:
    """The invoices of the workspace still to be paid (open or failed), oldest first."""
    return list(
        Invoice.objects.filter(workspace=workspace, status__in=PAYABLE_STATUSES)
        .order_by("issued_at", "id")
        .values_list("pk", flat=True)
    )


def latest_invoice(workspace: Workspace) -> Invoice | None:
    """The workspace's latest invoice that was not cancelled: what a credit note corrects
    when nothing more precise is known (docs/rules/invoices.md#credit-notes)."""
    return (
        Invoice.objects.filter(workspace=workspace, document_type=DocumentType.INVOICE)
        .exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID))
        .order_by("-issued_at", "-id")
        .first()
    )
