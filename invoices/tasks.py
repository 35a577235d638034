"""Celery tasks of invoices: they take ids, re-fetch, and call a service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from invoices import services
from invoices.models import Invoice


@shared_task(name="invoices.tasks.render_invoice_pdf_task")
def render_invoice_pdf_task(invoice_id: int) -> None:
    """Render and store a finalized invoice's PDF, unless it is stored already."""
    services.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice_id))


@shared_task(
    name="invoices.tasks.send_invoice_receipt_task",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_invoice_receipt_task(invoice_id: int) -> bool:
    """Email the receipt of a paid invoice, with its PDF (once per invoice)."""
    invoice = Invoice.objects.select_related("workspace").get(pk=invoice_id)
    return services.invoice_receipt_send(invoice=invoice, now=timezone.now())
