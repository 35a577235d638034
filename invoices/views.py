"""Invoice pages of a workspace: details, stored PDF download, CSV export."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from invoices import exports, selectors, services
from invoices.display import present_invoice
from invoices.models import Invoice, InvoiceStatus
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.permissions import Capability


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
    invoice = _finalized_invoice_or_404(request, invoice_id)
    return render(
        request,
        "invoices/invoice_detail.html",
        {"invoice": present_invoice(invoice), "workspace": request.workspace, "nav": "subscription"},
    )


# workspace_view is typed for HttpResponse; a FileResponse streams the stored file.
@workspace_view(Capability.VIEW_BILLING)  # type: ignore[arg-type]
@require_GET
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
def invoices_export_csv(request: WorkspaceRequest) -> HttpResponse:
    response = HttpResponse(exports.invoices_csv(request.workspace), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="invoices.csv"'
    return response
