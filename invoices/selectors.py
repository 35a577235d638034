"""Reads of invoices and of the account balance, always scoped by workspace."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from domain.vat import is_reverse_charge
from invoices.models import (
    PAYABLE_STATUSES,
    AccountBalanceEntry,
    BillingDetails,
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


def billing_details_of(workspace: Workspace) -> BillingDetails:
    """The workspace's billing details; an unsaved blank one (French documents) if none were entered."""
    found = BillingDetails.objects.filter(workspace=workspace).first()
    return found or BillingDetails(workspace=workspace, language=settings.LANGUAGE_CODE)


def billing_details_values(workspace: Workspace, details: BillingDetails) -> dict[str, str]:
    """The billing details field by field, as the Settings page shows them and the audit
    trail records them."""
    return {
        "legal_name": details.legal_name,
        "street": details.street,
        "postal_code": details.postal_code,
        "city": details.city,
        "country": workspace.country,
        "billing_email": workspace.billing_email,
        "extra_emails": details.extra_emails,
        "vat_number": workspace.vat_number,
        "registration_number": details.registration_number,
        "purchase_order": details.purchase_order,
        "language": details.language,
    }


def document_recipients(workspace: Workspace, contacts: list[str]) -> list[str]:
    """Who receives the documents: the billing contacts and the other billing emails of the
    billing details, each address once."""
    extra = billing_details_of(workspace).extra_email_list
    unique = {email.lower(): email for email in [*contacts, *extra]}
    return list(unique.values())


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in the seller's time zone (the
    documents' legal dates)."""
    zone = ZoneInfo(settings.SELLER_TIME_ZONE)
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, end


def documents_of_month(workspace: Workspace | None, year: int, month: int) -> QuerySet[Invoice]:
    """The invoices and credit notes issued in that month (the seller's calendar), in
    number order per series and date order; of one workspace, or of all for operators."""
    start, end = month_bounds(year, month)
    documents = Invoice.objects.exclude(status=InvoiceStatus.DRAFT).filter(
        issued_at__gte=start, issued_at__lt=end
    )
    if workspace is not None:
        documents = documents.filter(workspace=workspace)
    return documents.select_related("workspace").order_by("issued_at", "id")


def credit_notes_of(invoice: Invoice) -> QuerySet[Invoice]:
    """The issued credit notes correcting ``invoice``, oldest first."""
    return (
        Invoice.objects.filter(workspace_id=invoice.workspace_id, corrects=invoice)
        .exclude(number=None)
        .order_by("issued_at", "id")
    )
