"""The invoice PDF benchmark: a one-page invoice PDF through our code path in at
most 1.5× a bare WeasyPrint render of the same HTML, measured in the same run.

Our path is :func:`invoices.services.invoice_pdf_ensure` on an invoice without a stored
PDF: fetch, HTML template, WeasyPrint, storage write, conditional update. The floor is
``weasyprint.HTML(string=html).write_pdf()`` on the HTML our template produced.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.conf import settings
from weasyprint import HTML

from bench.sample_invoices import issue_sample_invoices, seconds

LIMIT = 1.5
REPEATS = 9


def run() -> list[dict[str, Any]]:
    from invoices import services
    from invoices.models import Invoice
    from invoices.pdf import invoice_pdf_html

    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    invoices = issue_sample_invoices(now, count=REPEATS, prefix="bench:pdf")
    invoice = invoices[0]
    html = invoice_pdf_html(invoice)
    base_url = str(settings.BASE_DIR)
    pages = len(HTML(string=html, base_url=base_url).render().pages)
    assert pages == 1, f"the bench invoice should fit on one page, not {pages}"

    def ours(invoice_id: int) -> None:
        services.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice_id))

    def floor() -> None:
        HTML(string=html, base_url=base_url).write_pdf()

    ours_times, floor_times = [], []
    floor()  # warm the font cache for both
    for each in invoices:
        ours_times.append(seconds(partial(ours, each.pk)))
        floor_times.append(seconds(floor))
    value, reference = statistics.median(ours_times), statistics.median(floor_times)
    ratio = value / reference
    return [
        {
            "name": "invoice PDF, 1 page (vs bare WeasyPrint)",
            "value": value,
            "floor": reference,
            "ratio": ratio,
            "limit": LIMIT,
            "ok": ratio <= LIMIT,
        }
    ]
