"""The invoice PDF: an HTML template (French legal mentions) rendered by WeasyPrint.

Rendering takes a noticeable fraction of a second, so it happens once per finalized
invoice (a task queued on commit, or the first download) and the file is stored; see
:func:`invoices.services.invoice_pdf_ensure`. Never call it from a sweep.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML

from invoices.display import present_invoice
from invoices.models import Invoice

TEMPLATE = "invoices/pdf/invoice.html"


def invoice_pdf_html(invoice: Invoice) -> str:
    """The invoice's HTML, in the invoice's language (French by default)."""
    with translation.override(invoice.language):
        return render_to_string(
            TEMPLATE, {"invoice": present_invoice(invoice, invoice.language), "language": invoice.language}
        )


def html_to_pdf(html: str) -> bytes:
    pdf: bytes = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    return pdf


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The PDF bytes of a finalized invoice."""
    return html_to_pdf(invoice_pdf_html(invoice))
