"""The Factur-X benchmark: storing an invoice's Factur-X PDF (PDF/A-3b, its CII XML built,
checked against the XSD and embedded, the SHA-256 recorded) costs at most 1.2× storing the
plain PDF the same invoice had before Factur-X, measured in the same run.

Ours is :func:`invoices.services.invoice_pdf_ensure` on a fresh invoice. The floor is
what that service did before Factur-X: fetch the invoice, render the plain PDF
(:func:`invoices.pdf.render_plain_pdf`), write it to storage.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.core.files.base import ContentFile

LIMIT = 1.2
REPEATS = 9


def _seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run() -> list[dict[str, Any]]:
    from invoices import pdf, services
    from invoices.models import Invoice
    from invoices.totals import DraftLine
    from workspaces.models import Workspace

    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    workspace = Workspace.objects.create(
        name="Bench SARL", billing_email="compta@bench.test", vat_number="FR68900000001"
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
    invoices = issue_unrendered(workspace, lines, now, count=REPEATS + 1, prefix="bench:facturx")

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
        floor_times.append(_seconds(partial(plain_pdf, invoice.pk)))
        ours_times.append(_seconds(partial(facturx_pdf, invoice.pk)))
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


def issue_unrendered(
    workspace: Any, lines: list[Any], now: datetime, *, count: int, prefix: str
) -> list[Any]:
    """``count`` invoices issued through the issuing path, their PDF renders not queued (so
    that the renders can be timed)."""
    from invoices import issuing

    queue = issuing.queue_pdf_renders
    issuing.queue_pdf_renders = lambda invoice_ids: None  # type: ignore[assignment]
    try:
        return [
            issuing.invoice_create(
                workspace=workspace,
                lines=lines,
                billing_reason="plan_change",
                source=f"{prefix}:{n}",
                now=now,
            )
            for n in range(count)
        ]
    finally:
        issuing.queue_pdf_renders = queue  # type: ignore[assignment]
