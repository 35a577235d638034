"""Credits for unused time carry their VAT, and a document that nets below zero is a credit
note in its own gap-free series (docs/rules/proration.md#credits-for-unused-time,
docs/rules/invoices.md#credit-notes). Every figure is written out."""

import pytest

from billing import services
from invoices.models import Charge, DocumentType, Invoice
from invoices.selectors import account_balance_cents
from tests.subscriptions.conftest import at, price_id, save_card, subscribe

pytestmark = pytest.mark.django_db

APRIL_1 = at(2026, 4, 1, 9)
APRIL_10 = at(2026, 4, 10, 9)  # 21 of April's 30 days remain


@pytest.fixture
def business(billed_workspace, owner):
    """Business, monthly, one licence (the owner): 20,00 € + 20 % VAT = 24,00 € a month."""
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=APRIL_1)
    return billed_workspace


def _change_plan(workspace, owner, plan, now):
    pid = price_id(plan)
    preview = services.preview_change_plan(workspace=workspace, price_id=pid, now=now)
    return preview, services.apply_change_plan(
        workspace=workspace, actor=owner, price_id=pid, preview=preview, now=now
    )


def test_a_downgrade_is_a_credit_note_whose_vat_goes_to_the_balance(business, owner):
    _change_plan(business, owner, "enterprise", APRIL_10)
    preview, result = _change_plan(business, owner, "business", APRIL_10)

    # 21/30 × 20,00 € charged − 21/30 × 40,00 € credited = −14,00 € HT, −2,80 € VAT.
    assert preview.totals.subtotal_cents == -1_400
    assert preview.totals.vat_cents == -280
    assert preview.totals.total_cents == -1_680
    assert preview.account_credit_cents == 1_680
    note = result.invoice
    assert note.document_type == DocumentType.CREDIT_NOTE
    assert note.number == "AV-2026-000001"
    assert (note.subtotal_cents, note.vat_cents, note.total_cents, note.amount_due_cents) == (
        -1_400,
        -280,
        -1_680,
        0,
    )
    upgrade = Invoice.objects.get(workspace=business, billing_reason="plan_change", document_type="invoice")
    assert note.corrects_id == upgrade.pk
    assert account_balance_cents(business) == 1_680


def test_an_upgrade_and_a_downgrade_on_one_day_cost_nothing_more(business, owner):
    _change_plan(business, owner, "enterprise", APRIL_10)
    _change_plan(business, owner, "business", APRIL_10)

    charged = sum(Charge.objects.filter(workspace=business).values_list("amount_cents", flat=True))
    # 24,00 € for April on Business, 16,80 € for the upgrade, all of it back as credit.
    assert charged == 2_400 + 1_680
    assert account_balance_cents(business) == 1_680
    assert charged - account_balance_cents(business) == 2_400


def test_the_balance_pays_the_next_invoice_vat_included(business, owner):
    _change_plan(business, owner, "enterprise", APRIL_10)
    _change_plan(business, owner, "business", APRIL_10)

    renewal = services.apply_renew(workspace=business, now=at(2026, 5, 1, 0, 5))

    assert renewal.invoice.total_cents == 2_400
    assert renewal.invoice.account_credit_applied_cents == 1_680
    assert renewal.invoice.amount_due_cents == 720
    assert account_balance_cents(business) == 0


def test_credit_notes_are_numbered_in_their_own_series(business, owner):
    numbers = []
    for _round in range(2):
        _change_plan(business, owner, "enterprise", APRIL_10)
        numbers.append(_change_plan(business, owner, "business", APRIL_10)[1].invoice.number)

    assert numbers == ["AV-2026-000001", "AV-2026-000002"]
    assert sorted(Invoice.objects.filter(document_type="invoice").values_list("number", flat=True)) == [
        "INV-2026-000001",
        "INV-2026-000002",
        "INV-2026-000003",
    ]


def test_the_credit_note_pdf_names_the_invoice_it_corrects(business, owner, settings, tmp_path):
    from invoices.services import invoice_pdf_ensure
    from tests.invoices.pdftext import extract_text

    _change_plan(business, owner, "enterprise", APRIL_10)
    note = _change_plan(business, owner, "business", APRIL_10)[1].invoice

    text = extract_text(invoice_pdf_ensure(invoice=note).pdf.read())

    assert "Avoir" in text
    assert "Numéro d'avoir : \nAV-2026-000001" in text
    assert "Avoir sur la facture INV-2026-000002" in text
    assert "-16,80" in text
