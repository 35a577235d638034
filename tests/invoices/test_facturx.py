"""Factur-X: every invoice and credit note is a PDF/A-3 carrying its EN 16931 CII XML,
valid against the Factur-X XSD, whose totals are the database's to the cent
(docs/rules/invoices.md#factur-x)."""

import hashlib
import io
import re

import facturx as facturx_lib
import pypdf
import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from lxml import etree

from invoices import facturx, pdf, services
from invoices.models import FACTURX_EN16931, Invoice
from tests.factories import DraftInvoiceLineFactory, UserFactory
from tests.invoices.conftest import NOW, plan_line

pytestmark = pytest.mark.django_db

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
SUMMATION = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/"


def stored_xml(invoice):
    """The XML the stored PDF carries, read back by the factur-x library (XSD-checked)."""
    stored = services.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice.pk))
    with stored.pdf.open("rb") as handle:
        content = handle.read()
    filename, xml = facturx_lib.get_facturx_xml_from_pdf(content, check_xsd=True)
    assert filename == "factur-x.xml"
    return etree.fromstring(xml), content


def text(tree, path):
    return tree.xpath(path, namespaces=NS)[0].text


def texts(tree, path):
    return [node.text for node in tree.xpath(path, namespaces=NS)]


def seat_proration_line():
    # 2 seats × 15,00 € × 5/31 days = 150,00 € / 31 = 4,838… → 4,84 €
    return plan_line(
        484,
        kind="seat_proration",
        subject="Team Starter",
        quantity=2,
        unit_amount_cents=1_500,
        fraction_numerator=5,
        fraction_denominator=31,
        fraction_unit="day",
        metadata={"extra": True},
    )


def credits_line():
    # 3 packs × 5,00 € = 15,00 €
    return plan_line(
        1_500,
        kind="extra_credits",
        subject="",
        quantity=3,
        unit_amount_cents=500,
        period_start=None,
        period_end=None,
        metadata={"pack_size": 1_000_000},
    )


def test_an_invoice_is_a_pdf_a3_carrying_its_xml_with_the_database_totals(workspace, make_invoice):
    invoice = make_invoice(
        workspace, plan_line(15_900, subject="Team Starter"), seat_proration_line(), credits_line()
    )
    assert invoice.einvoice_profile == FACTURX_EN16931

    tree, content = stored_xml(invoice)

    # 159,00 + 4,84 + 15,00 = 178,84 € HT; 178,84 × 20 % = 35,768 → 35,77 €; 214,61 € TTC.
    assert text(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert text(tree, "//rsm:ExchangedDocument/ram:ID") == invoice.number
    assert text(tree, SUMMATION + "ram:LineTotalAmount") == "178.84"
    assert text(tree, SUMMATION + "ram:TaxBasisTotalAmount") == "178.84"
    assert text(tree, SUMMATION + "ram:TaxTotalAmount") == "35.77"
    assert text(tree, SUMMATION + "ram:GrandTotalAmount") == "214.61"
    assert text(tree, SUMMATION + "ram:DuePayableAmount") == "214.61"
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.subtotal_cents, stored.vat_cents, stored.total_cents, stored.amount_due_cents) == (
        17_884,
        3_577,
        21_461,
        21_461,
    )
    # The VAT breakdown: 20 % standard rate on 178,84 €.
    assert texts(tree, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == [
        "S"
    ]
    assert texts(
        tree, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent"
    ) == ["20.00"]
    # Each line's net amount; the prorated seats bill 10 days at 15,00 € per 31 days.
    assert texts(tree, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount") == [
        "159.00",
        "4.84",
        "15.00",
    ]
    assert texts(tree, "//ram:BilledQuantity") == ["1", "10", "3"]
    assert texts(tree, "//ram:BasisQuantity") == ["31"]
    # Seller identity and payment terms.
    assert text(tree, "//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID") == "900000001"
    assert text(tree, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == "FR68900000001"
    assert (
        text(tree, "//ram:SellerTradeParty/ram:Description")
        == "SAS au capital de 10\u202f000,00\u00a0€ · RCS Paris 900 000 001"
    )
    assert "40 €" in " ".join(texts(tree, "//ram:IncludedNote/ram:Content"))

    # PDF/A-3b with the Factur-X metadata (what veraPDF reads first), the XML as an
    # associated file of the document.
    reader = pypdf.PdfReader(io.BytesIO(content))
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"<pdfaid:part>3</pdfaid:part>", metadata)
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>", metadata)
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in metadata
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in metadata
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert len(reader.trailer["/Root"]["/AF"]) == 1


def test_the_stored_files_sha256_is_recorded_and_the_database_refuses_to_change_it(workspace, make_invoice):
    invoice = make_invoice(workspace)
    stored = services.invoice_pdf_ensure(invoice=invoice)
    with stored.pdf.open("rb") as handle:
        assert Invoice.objects.get(pk=invoice.pk).pdf_sha256 == hashlib.sha256(handle.read()).hexdigest()
    for change in ({"pdf_sha256": "0" * 64}, {"pdf": "invoices/elsewhere.pdf"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Invoice.objects.filter(pk=invoice.pk).update(**change)


@pytest.mark.parametrize(
    ("kind", "lines"),
    [
        ("plan", [plan_line(15_900)]),
        (
            "seats",
            [plan_line(4_500, kind="seats", quantity=3, unit_amount_cents=1_500, metadata={"extra": True})],
        ),
        ("seat proration", [seat_proration_line()]),
        (
            "plan proration",
            # 1 × 40,00 € × 21/30 days = 28,00 €, less 1 × 20,00 € × 21/30 days = 14,00 €.
            [
                plan_line(
                    2_800,
                    kind="plan_proration",
                    subject="Enterprise",
                    unit_amount_cents=4_000,
                    fraction_numerator=21,
                    fraction_denominator=30,
                    fraction_unit="day",
                ),
                plan_line(
                    -1_400,
                    kind="credit",
                    subject="Business",
                    quantity=-1,
                    unit_amount_cents=2_000,
                    fraction_numerator=21,
                    fraction_denominator=30,
                    fraction_unit="day",
                ),
            ],
        ),
        ("credits", [credits_line()]),
    ],
)
def test_every_invoice_kind_validates_against_the_xsd(workspace, make_invoice, kind, lines):
    invoice = make_invoice(workspace, *lines)
    tree, _content = stored_xml(invoice)
    facturx.check_xsd(etree.tostring(tree))
    stored = Invoice.objects.get(pk=invoice.pk)
    assert text(tree, SUMMATION + "ram:GrandTotalAmount") == f"{stored.total_cents / 100:.2f}"


def test_a_reverse_charged_invoice_is_category_ae_with_the_mention(workspace, make_invoice):
    workspace.country, workspace.vat_number = "DE", "DE136695976"
    workspace.save()
    invoice = make_invoice(workspace, plan_line(10_000))
    tree, _content = stored_xml(invoice)
    assert texts(tree, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == [
        "AE"
    ]
    assert text(tree, "//ram:ApplicableTradeTax/ram:ExemptionReasonCode") == "VATEX-EU-AE"
    assert "Autoliquidation — article 283-2 du CGI" in text(
        tree, "//ram:ApplicableTradeTax/ram:ExemptionReason"
    )
    assert text(tree, SUMMATION + "ram:TaxTotalAmount") == "0.00"
    assert text(tree, SUMMATION + "ram:GrandTotalAmount") == "100.00"
    assert text(tree, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == "DE136695976"


def test_a_zero_rated_invoice_validates(workspace, make_invoice, settings):
    settings.DEFAULT_VAT_RATE_BP = 0
    invoice = make_invoice(workspace, plan_line(10_000))
    tree, _content = stored_xml(invoice)
    assert texts(tree, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == [
        "Z"
    ]
    assert text(tree, SUMMATION + "ram:TaxTotalAmount") == "0.00"
    assert text(tree, SUMMATION + "ram:GrandTotalAmount") == "100.00"


def test_a_credit_note_is_type_381_with_positive_amounts_naming_the_invoice(workspace, make_invoice):
    invoice = make_invoice(workspace, plan_line(2_000))
    services.invoice_void(invoice=invoice, now=invoice.issued_at)
    credit_note = Invoice.objects.get(corrects=invoice)
    assert (credit_note.subtotal_cents, credit_note.vat_cents, credit_note.total_cents) == (
        -2_000,
        -400,
        -2_400,
    )

    tree, _content = stored_xml(credit_note)

    assert text(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert text(tree, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == invoice.number
    # 20,00 € HT, 4,00 € VAT, 24,00 € given back: stated positive, the type says who owes it.
    assert text(tree, SUMMATION + "ram:TaxBasisTotalAmount") == "20.00"
    assert text(tree, SUMMATION + "ram:TaxTotalAmount") == "4.00"
    assert text(tree, SUMMATION + "ram:GrandTotalAmount") == "24.00"
    assert texts(tree, "//ram:BilledQuantity") == ["1"]


def test_a_document_issued_before_factur_x_stays_a_plain_pdf(workspace, client, owner):
    # As the migration left the documents issued before it: finalized, no profile recorded.
    line = DraftInvoiceLineFactory(
        invoice__workspace=workspace, amount_cents=10_000, unit_amount_cents=10_000
    )
    Invoice.objects.filter(pk=line.invoice_id).update(
        status="open",
        number="INV-2025-000001",
        issued_at=NOW,
        due_at=NOW,
        subtotal_cents=10_000,
        vat_rate_bp=2_000,
        vat_cents=2_000,
        total_cents=12_000,
        amount_due_cents=12_000,
    )
    old = Invoice.objects.get(pk=line.invoice_id)
    assert old.einvoice_profile == ""

    content = pdf.render_invoice_pdf(old)

    assert content.startswith(b"%PDF-")
    with pytest.raises(ValueError, match="no Factur-X XML"):
        facturx.xml_of_pdf(content)
    client.force_login(owner.user)
    assert client.get(f"/{workspace.pk}/workspace/invoices/{old.pk}/xml/").status_code == 404
    assert client.get(f"/{workspace.pk}/workspace/invoices/{old.pk}/pdf/").status_code == 200


def test_operators_see_the_stored_files_sha256(client, workspace, make_invoice):
    invoice = services.invoice_pdf_ensure(invoice=make_invoice(workspace))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:invoices_invoice_change", args=[invoice.pk]))

    assert page.status_code == 200
    assert Invoice.objects.get(pk=invoice.pk).pdf_sha256 in page.content.decode()
