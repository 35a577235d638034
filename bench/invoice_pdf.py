"""The invoice PDF benchmark: a one-page invoice PDF through our code path in at
most 1.5× a bare WeasyPrint render of the same HTML, measured in the same run.

Our path is :func:`invoices.services.invoice_pdf_ensure` on an invoice without a stored
PDF: fetch, HTML template, WeasyPrint, storage write, conditional update. The floor is
``weasyprint.HTML(string=html).write_pdf()`` on the HTML our template produced.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.conf import settings
from weasyprint import HTML

from bench.facturx import issue_unrendered

LIMIT = 1.5
REPEATS = 9


def _seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run() -> list[dict[str, Any]]:
    from invoices import services
    from invoices.models import Invoice
    from invoices.pdf import invoice_pdf_html
    from invoices.totals import DraftLine
    from workspaces.models import Workspace

    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    workspace = Workspace.objects.create(
        name="Bench SARL", billing_email="compta@bench.test", vat_number="FR1"
    )
    lines = [
        DraftLine(kind="plan", subject="Team Starter", amount_cents=15_900, unit_amount_cents=15_900,
                  period_start=now, period_end=now),
        DraftLine(kind="seats", subject="Team Starter", amount_cents=7_500, quantity=5, unit_amount_cents=1_500,
                  period_start=now, period_end=now, metadata={"extra": True}),
        DraftLine(kind="extra_credits", subject="", amount_cents=1_000, quantity=2, unit_amount_cents=500,
                  metadata={"pack_size": 1_000_000}),
        # -1 × 100,00 € × 12/31 days = -38,709… → -38,71 €
        DraftLine(kind="credit", subject="Starter", amount_cents=-3_871, quantity=-1, unit_amount_cents=10_000,
                  fraction_numerator=12, fraction_denominator=31, fraction_unit="day"),
    ]  # fmt: skip
    # One invoice per render (a stored PDF and its recorded hash never change), issued
    # without queueing its render: the renders are what is measured.
    invoices = issue_unrendered(workspace, lines, now, count=REPEATS, prefix="bench:pdf")
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
        ours_times.append(_seconds(partial(ours, each.pk)))
        floor_times.append(_seconds(floor))
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
