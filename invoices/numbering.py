"""Invoice and credit-note numbers: one gap-free series per document type and year,
in the order documents are issued (docs/rules/invoices.md#numbering)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from domain.checks import is_int
from invoices.models import InvoiceNumberCounter


def number_year(issued_at: datetime) -> int:
    """The calendar year an invoice is numbered in: the seller's local year of issue."""
    return issued_at.astimezone(ZoneInfo(settings.SELLER_TIME_ZONE)).year


def reserve_invoice_numbers(*, issued_at: datetime, count: int, series: str = "INV") -> list[str]:
    """``count`` consecutive numbers of ``series`` in the year of ``issued_at``,
    ``INV-2026-000001``… or ``AV-2026-000001``…; gap-free and unique under concurrency.

    The year's counter row is locked (``SELECT … FOR UPDATE``) until the transaction
    ends: concurrent finalizations wait for each other, and a rollback gives the numbers
    back. Take it last, and only inside the transaction that finalizes the invoices.
    """
    if not is_int(count) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    if not connection.in_atomic_block:
        raise RuntimeError("invoice numbers are reserved inside the transaction that finalizes the invoices")
    year = number_year(issued_at)
    InvoiceNumberCounter.objects.bulk_create(
        [InvoiceNumberCounter(series=series, year=year)], ignore_conflicts=True
    )
    counter = InvoiceNumberCounter.objects.select_for_update().get(series=series, year=year)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return [f"{series}-{year}-{n:06d}" for n in range(first, first + count)]
