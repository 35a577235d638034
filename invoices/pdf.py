"""The invoice PDF: an HTML template (French legal mentions) rendered by WeasyPrint.

A document issued as Factur-X (every document since Factur-X,
docs/rules/invoices.md#factur-x) is rendered as PDF/A-3b and carries its CII XML
(:mod:`invoices.facturx`); one issued before stays a plain PDF.

Rendering takes a noticeable fraction of a second, so it happens once per finalized
invoice (a task queued on commit, or the first download) and the file is stored; see
:func:`invoices.services.invoice_pdf_ensure`. Never call it from a sweep.

WeasyPrint fetches what the HTML names through :func:`static_only_url_fetcher`: our own
static files and nothing else — no ``file://`` path elsewhere on the machine, no remote
address — so a name or an address typed by a customer cannot make the renderer read a
local file or call out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.urls import URLFetchingError

from invoices import facturx
from invoices.display import present_invoice
from invoices.models import Invoice

TEMPLATE = "invoices/pdf/invoice.html"
#: WeasyPrint's PDF/A-3b output: the archival PDF Factur-X is built on.
PDF_A3B = "pdf/a-3b"


def _static_roots() -> list[Path]:
    roots = [Path(str(root)).resolve() for root in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(str(settings.STATIC_ROOT)).resolve())
    return roots


def static_only_url_fetcher(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Serve a resource the HTML names only if it is one of our static files, named by its
    path under ``STATIC_URL`` (``/static/…``) or by a ``file://`` URL inside a static
    directory; refuse everything else (WeasyPrint then leaves the resource out)."""
    parts = urlsplit(url)
    path: Path | None = None
    if parts.scheme == "file" and not parts.netloc:
        candidate = Path(unquote(parts.path)).resolve()
        if any(candidate.is_relative_to(root) for root in _static_roots()):
            path = candidate
        else:
            prefix = Path(str(settings.BASE_DIR)).resolve() / settings.STATIC_URL.strip("/")
            if candidate.is_relative_to(prefix):
                found = finders.find(str(candidate.relative_to(prefix)))
                path = Path(found).resolve() if isinstance(found, str) else None
    if path is None or not path.is_file():
        raise URLFetchingError(f"Refused to fetch {url!r}: invoices use our own static files only.")
    return {"string": path.read_bytes(), "filename": path.name, "redirected_url": url}


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


def html_to_pdf(html: str, *, pdf_variant: str | None = None) -> bytes:
    document = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=static_only_url_fetcher)
    pdf: bytes = document.write_pdf(pdf_variant=pdf_variant)
    return pdf


def render_plain_pdf(invoice: Invoice) -> bytes:
    """The document as a plain PDF (how documents issued before Factur-X are rendered)."""
    return html_to_pdf(invoice_pdf_html(invoice))


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The PDF bytes of a finalized invoice, frozen at issue: a Factur-X PDF/A-3b carrying
    its CII XML, or a plain PDF for a document issued before Factur-X."""
    if not invoice.is_facturx:
        return render_plain_pdf(invoice)
    xml = facturx.invoice_xml(invoice)
    return facturx.embed(html_to_pdf(invoice_pdf_html(invoice), pdf_variant=PDF_A3B), xml, invoice)


def render_receipt_pdf(invoice: Invoice) -> bytes:
    """The PDF bytes of a paid invoice's receipt: the invoice, with its payment."""
    return html_to_pdf(invoice_pdf_html(invoice, receipt=True))
