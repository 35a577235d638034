"""The invoice PDF: a real PDF with the legal mentions, rendered once and stored."""

from datetime import UTC, datetime

import pytest

from invoices import errors, pdf, services
from invoices.models import Invoice
from tests.factories import DraftInvoiceFactory
from tests.invoices.conftest import plan_line
from tests.invoices.pdftext import extract_text


@pytest.fixture
def render_count(monkeypatch):
    calls = []
    real = pdf.render_invoice_pdf

    def counting(invoice):
        calls.append(invoice.pk)
        return real(invoice)

    monkeypatch.setattr(pdf, "render_invoice_pdf", counting)
    return calls


def test_pdf_is_a_french_invoice_with_the_legal_mentions(workspace, make_invoice, settings):
    workspace.vat_number = "FR99123456789"
    workspace.save()
    invoice = make_invoice(workspace, plan_line(15_900, subject="Team Starter"))

    content = pdf.render_invoice_pdf(invoice)
    assert content.startswith(b"%PDF-")
    text = extract_text(content)

    for expected in [
        "Facture",
        f"Numéro de facture : \n{invoice.number}",
        "Date d'émission : 10 mars 2026",
        "Date d'échéance : 10 mars 2026",
        settings.SELLER_NAME,
        f"SIREN : {settings.SELLER_SIREN}",
        f"N° de TVA intracommunautaire : {settings.SELLER_VAT_NUMBER}",
        "N° de TVA intracommunautaire : FR99123456789",
        # 1 × 159,00 € = 159,00 €, column by column.
        "Forfait Team Starter",
        "1\n× 159,00\u00a0€\n= 159,00\u00a0€",
        "1 mars 2026 – 31 mars 2026",
        "Sous-total HT\n159,00\u00a0€",
        "TVA (20,00\u00a0%)\n31,80\u00a0€",
        "Total TTC\n190,80\u00a0€",
        "Crédit de compte appliqué\n0,00\u00a0€",
        "Montant dû\n190,80\u00a0€",
        "Pénalités de retard : trois fois le taux d'intérêt légal",
        "Indemnité forfaitaire pour frais de recouvrement : 40 €",
        "Pas d'escompte pour paiement anticipé",
    ]:
        assert expected in text, expected
    assert "Autoliquidation" not in text
    # Frozen at issue: nothing that changes later, such as the payment status.
    assert "En attente" not in text
    assert "Statut du paiement" not in text


def test_reverse_charged_pdf_carries_the_mention_and_no_vat(workspace, make_invoice):
    workspace.country, workspace.vat_number = "DE", "DE123456789"
    workspace.save()
    text = extract_text(pdf.render_invoice_pdf(make_invoice(workspace, plan_line(10_000))))
    assert "Autoliquidation — article 283-2 du CGI · VAT reverse charge" in text
    assert "TVA\n0,00\u00a0€" in text
    assert "Total TTC\n100,00\u00a0€" in text


def test_the_render_task_queued_on_commit_stores_the_pdf_once(
    workspace, make_invoice, render_count, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = make_invoice(workspace)
    stored = Invoice.objects.get(pk=invoice.pk)
    assert stored.pdf.name == f"invoices/{workspace.pk}/{invoice.number}.pdf"
    assert render_count == [invoice.pk]
    with stored.pdf.open("rb") as handle:
        assert invoice.number in extract_text(handle.read())

    # Asked again (a second task delivery, a download): served from storage.
    services.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice.pk))
    assert render_count == [invoice.pk]


def test_a_lost_race_keeps_the_first_stored_file(workspace, make_invoice, monkeypatch):
    invoice = make_invoice(workspace)
    winner = f"invoices/{workspace.pk}/stored-by-the-task.pdf"
    real = pdf.render_invoice_pdf

    def render_while_the_task_stores_its_file(rendered):
        content = real(rendered)
        Invoice.objects.filter(pk=rendered.pk).update(pdf=winner)
        return content

    monkeypatch.setattr(pdf, "render_invoice_pdf", render_while_the_task_stores_its_file)
    result = services.invoice_pdf_ensure(invoice=invoice)
    assert result.pdf.name == winner
    assert Invoice.objects.get(pk=invoice.pk).pdf.name == winner
    # The losing render's file is removed, not left behind.
    assert result.pdf.storage.listdir(f"invoices/{workspace.pk}")[1] == []


def test_a_draft_has_no_pdf(workspace):
    draft = DraftInvoiceFactory(workspace=workspace, source="d", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(errors.InvoicePdfUnavailable):
        services.invoice_pdf_ensure(invoice=draft)
