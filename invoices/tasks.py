"""Celery tasks of invoices: they take ids, re-fetch, and call a service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from invoices import services
from invoices.models import Invoice


@shared_task(name="invoices.tasks.render_invoice_pdfs_task")
def render_invoice_pdfs_task(invoice_ids: list[int]) -> None:
    """Render and store each finalized invoice's PDF, unless it is stored already (one
    task per issued batch: a sweep of thousands queues one message)."""
    for invoice in Invoice.objects.filter(pk__in=invoice_ids).order_by("pk"):
        services.invoice_pdf_ensure(invoice=invoice)


@shared_task(
    name="invoices.tasks.send_invoice_receipts_task",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_invoice_receipts_task(invoice_ids: list[int]) -> int:
    """Email the receipt of each paid invoice, with its PDF (once per invoice; a retry
    skips those already sent). Returns how many were sent."""
    sent = 0
    for invoice in Invoice.objects.filter(pk__in=invoice_ids).select_related("workspace").order_by("pk"):
        sent += services.invoice_receipt_send(invoice=invoice, now=timezone.now())
    return sent
