"""Invoice pages of a workspace: details, stored PDF and its Factur-X XML, CSV export, the
accounting export of a month and the ZIP of its documents."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from invoices import errors, exports, facturx, selectors, services
from invoices.display import present_invoice
from invoices.models import PAYABLE_STATUSES, Charge, ChargeStatus, Invoice, InvoiceStatus
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.permissions import Capability, allows


def _finalized_invoice_or_404(request: WorkspaceRequest, invoice_id: int) -> Invoice:
    try:
        invoice = selectors.get_invoice_in_workspace(request.workspace, invoice_id)
    except Invoice.DoesNotExist as exc:
        raise Http404("No such invoice.") from exc
    if invoice.status == InvoiceStatus.DRAFT:
        raise Http404("No such invoice.")
    return invoice


@workspace_view(Capability.VIEW_BILLING)
@require_GET
def invoice_detail(request: WorkspaceRequest, invoice_id: int) -> HttpResponse:
    """An invoice or credit note: its lines and totals, why its last charge failed, the
    credit notes that correct it, and for owners and admins "Payer maintenant" while it is
    unpaid (docs/rules/invoices.md#invoice-detail)."""
    invoice = _finalized_invoice_or_404(request, invoice_id)
    unpaid = invoice.status in PAYABLE_STATUSES
    return render(
        request,
        "invoices/invoice_detail.html",
        {
            "invoice": present_invoice(invoice),
            "workspace": request.workspace,
            "nav": "subscription",
            "credit_notes": selectors.credit_notes_of(invoice),
            "failure_message": invoice.payment_failure_message
            if invoice.status == InvoiceStatus.FAILED
            else "",
            "can_pay": unpaid and allows(request.membership.role, Capability.MANAGE_BILLING),
            "awaits_authentication": unpaid
            and Charge.objects.filter(invoice=invoice, status=ChargeStatus.REQUIRES_ACTION).exists(),
        },
    )


# workspace_view is typed for HttpResponse; a FileResponse streams the stored file.
@workspace_view(Capability.VIEW_BILLING)  # type: ignore[arg-type]
@require_GET
@never_cache  # documents of the workspace: no browser or proxy keeps a copy (docs/security.md)
def invoice_pdf(request: WorkspaceRequest, invoice_id: int) -> FileResponse:
    """Serve the stored PDF; it is rendered here only if the render task has not run yet."""
    invoice = services.invoice_pdf_ensure(invoice=_finalized_invoice_or_404(request, invoice_id))
    return FileResponse(
        invoice.pdf.open("rb"),
        as_attachment=True,
        filename=invoice.pdf_filename,
        content_type="application/pdf",
    )


@workspace_view(Capability.VIEW_BILLING)
@require_GET
@never_cache  # documents of the workspace: no browser or proxy keeps a copy (docs/security.md)
def invoices_export_csv(request: WorkspaceRequest) -> HttpResponse:
    response = HttpResponse(exports.invoices_csv(request.workspace), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="invoices.csv"'
    return response


@workspace_view(Capability.VIEW_BILLING)
@require_GET
@never_cache  # documents of the workspace: no browser or proxy keeps a copy (docs/security.md)
def invoice_xml(request: WorkspaceRequest, invoice_id: int) -> HttpResponse:
    """The Factur-X XML alone, read from the stored PDF (the very XML it carries); a
    document issued before Factur-X has none."""
    invoice = _finalized_invoice_or_404(request, invoice_id)
    if not invoice.is_facturx:
        raise Http404("This document was issued before Factur-X: it carries no XML.")
    invoice = services.invoice_pdf_ensure(invoice=invoice)
    with invoice.pdf.open("rb") as stored:
        xml = facturx.xml_of_pdf(stored.read())
    response = HttpResponse(xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{invoice.xml_filename}"'
    return response


def _month(request: WorkspaceRequest) -> tuple[int, int] | HttpResponse:
    try:
        # No month chosen: the current one, as the Billing tab's picker proposes.
        return exports.parse_month(request.GET.get("month") or exports.month_of(timezone.now()))
    except errors.AccountingMonthInvalid as exc:
        return HttpResponseBadRequest(str(exc.message), content_type="text/plain; charset=utf-8")


@workspace_view(Capability.VIEW_BILLING)
@require_GET
@never_cache  # documents of the workspace: no browser or proxy keeps a copy (docs/security.md)
def accounting_export_csv(request: WorkspaceRequest) -> HttpResponse:
    """The month's accounting export: one row per document and VAT rate."""
    month = _month(request)
    if isinstance(month, HttpResponse):
        return month
    language = get_language() or "fr"
    documents = exports.month_documents(request.workspace, *month)
    response = HttpResponse(
        exports.accounting_csv(documents, language), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{exports.month_filename(*month, "csv", language)}"'
    )
    return response


@workspace_view(Capability.VIEW_BILLING)
@require_GET
@never_cache  # documents of the workspace: no browser or proxy keeps a copy (docs/security.md)
def month_archive_zip(request: WorkspaceRequest) -> HttpResponse:
    """The month's documents as PDFs in one ZIP, with their accounting export."""
    month = _month(request)
    if isinstance(month, HttpResponse):
        return month
    language = get_language() or "fr"
    content = exports.documents_zip(
        exports.month_documents(request.workspace, *month),
        csv_name=exports.month_filename(*month, "csv", language),
        language=language,
    )
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="{exports.month_filename(*month, "zip", language)}"'
    )
    return response
