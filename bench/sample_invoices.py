"""The invoice the PDF benchmarks render (a one-page invoice with a plan, extra seats,
credit packs and a prorated credit), issued through the issuing path without queueing
its PDF render, and a timer for one render."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any


def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def issue_sample_invoices(now: datetime, *, count: int, prefix: str) -> list[Any]:
    """``count`` copies of the sample invoice for a new workspace, issued at ``now``: one
    per render, since a stored PDF and its recorded hash never change."""
    from invoices.totals import DraftLine
    from workspaces.models import Workspace

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
    return _issue_unrendered(workspace, lines, now, count=count, prefix=prefix)


def _issue_unrendered(
    workspace: Any, lines: list[Any], now: datetime, *, count: int, prefix: str
) -> list[Any]:
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
