"""The Factur-X benchmark: storing an invoice's Factur-X PDF (PDF/A-3b, its CII XML built,
checked against the XSD and embedded, the SHA-256 recorded) costs at most 1.2× storing the
plain PDF the same invoice had before Factur-X, measured in the same run.

Ours is :func:`invoices.services.invoice_pdf_ensure` on a fresh invoice. The floor is
what that service did before Factur-X: fetch the invoice, render the plain PDF
(:func:`invoices.pdf.render_plain_pdf`), write it to storage.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.core.files.base import ContentFile

from bench.sample_invoices import issue_sample_invoices, seconds

LIMIT = 1.2
REPEATS = 9


def run() -> list[dict[str, Any]]:
    from invoices import pdf, services
    from invoices.models import Invoice

    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    invoices = issue_sample_invoices(now, count=REPEATS + 1, prefix="bench:facturx")

    def facturx_pdf(invoice_id: int) -> None:
        services.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice_id))

    def plain_pdf(invoice_id: int) -> None:
        invoice = Invoice.objects.select_related("workspace").get(pk=invoice_id)
        content = pdf.render_plain_pdf(invoice)
        storage = invoice.pdf.storage
        name = storage.save(invoice.pdf.field.generate_filename(invoice, "plain.pdf"), ContentFile(content))
        storage.delete(name)

    plain_pdf(invoices[0].pk)  # warm the font cache for both
    facturx_pdf(invoices[0].pk)
    ours_times, floor_times = [], []
    for invoice in invoices[1:]:
        floor_times.append(seconds(partial(plain_pdf, invoice.pk)))
        ours_times.append(seconds(partial(facturx_pdf, invoice.pk)))
    value, reference = statistics.median(ours_times), statistics.median(floor_times)
    ratio = value / reference
    return [
        {
            "name": "Factur-X invoice PDF (vs plain PDF)",
            "value": value,
            "floor": reference,
            "ratio": ratio,
            "limit": LIMIT,
            "ok": ratio <= LIMIT,
        }
    ]
