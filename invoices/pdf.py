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


def invoice_pdf_html(invoice: Invoice, *, receipt: bool = False) -> str:
    """The invoice's HTML, in the invoice's language (French by default). The invoice
    itself says nothing that changes after issue (no payment status); the ``receipt``
    says when and how it was paid (docs/rules/invoices.md#pdf-and-receipt)."""
    with translation.override(invoice.language):
        return render_to_string(
            TEMPLATE,
            {
                "invoice": present_invoice(invoice, invoice.language),
                "language": invoice.language,
                "receipt": receipt,
            },
        )


def html_to_pdf(html: str) -> bytes:
    pdf: bytes = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    return pdf


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The PDF bytes of a finalized invoice, frozen at issue."""
    return html_to_pdf(invoice_pdf_html(invoice))


def render_receipt_pdf(invoice: Invoice) -> bytes:
    """The PDF bytes of a paid invoice's receipt: the invoice, with its payment."""
    return html_to_pdf(invoice_pdf_html(invoice, receipt=True))
