"""The stored invoice PDF is frozen at issue and says nothing about payment; a paid invoice
gets a receipt PDF (docs/rules/invoices.md#pdf-and-receipt)."""

import hashlib

import pytest
from django.core import mail

from invoices.models import Invoice
from invoices.services import invoice_pdf_ensure, invoice_receipt_send
from tests.invoices.pdftext import extract_text
from tests.subscriptions.conftest import at, save_card, subscribe

pytestmark = pytest.mark.django_db


def test_the_pdf_rendered_before_payment_is_the_one_kept_and_the_receipt_says_paid(
    billed_workspace, owner, django_capture_on_commit_callbacks
):
    save_card(billed_workspace, owner)
    with django_capture_on_commit_callbacks(execute=False):
        subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))
    invoice = Invoice.objects.get(workspace=billed_workspace, billing_reason="subscription_create")
    # Rendered while the invoice was still open, as the task queued at issue may do.
    Invoice.objects.filter(pk=invoice.pk).update(pdf="")
    opened = Invoice.objects.get(pk=invoice.pk)
    Invoice.objects.filter(pk=invoice.pk).update(status="open", paid_at=None)
    stored = invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice.pk))
    before = hashlib.sha256(stored.pdf.read()).hexdigest()
    Invoice.objects.filter(pk=invoice.pk).update(status=opened.status, paid_at=opened.paid_at)

    sent = invoice_receipt_send(invoice=Invoice.objects.get(pk=invoice.pk), now=at(2026, 4, 1, 9, 1))

    assert sent is True
    paid = Invoice.objects.get(pk=invoice.pk)
    assert hashlib.sha256(paid.pdf.read()).hexdigest() == before
    [message] = [m for m in mail.outbox if invoice.number in m.subject]
    attachments = {name: content for name, content, _type in message.attachments}
    invoice_text = extract_text(attachments[f"{invoice.number}.pdf"])
    receipt_text = extract_text(attachments[f"{invoice.number}-receipt.pdf"])
    assert "En attente" not in invoice_text
    assert "payée le" not in invoice_text
    assert "Reçu de paiement" in receipt_text
    assert "payée le 1 avril 2026" in receipt_text
    assert "Total TTC\n24,00\u00a0€" in receipt_text
