"""Every document of the demo data is a Factur-X PDF whose XML is valid against the XSD and
states the database's totals (docs/rules/invoices.md#factur-x, docs/demo.md)."""

from collections import Counter

import facturx as facturx_lib
import pytest
import time_machine
from django.core.management import call_command
from lxml import etree

from invoices import services
from invoices.models import FACTURX_EN16931, Invoice
from tests.subscriptions.conftest import at

NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
SUMMATION = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"


def _cents(tree, name):
    return round(float(tree.xpath(SUMMATION + name, namespaces=NS)[0].text) * 100)


@pytest.mark.django_db
def test_every_demo_document_validates_and_matches_the_database(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(at(2026, 11, 23, 12), tick=False):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    documents = list(Invoice.objects.exclude(status="draft").order_by("pk"))
    # The demo issues invoices of several kinds (plans, seats, credits); credit notes and
    # reverse charge are covered by the test data (tests/invoices/test_facturx.py).
    reasons = Counter(d.billing_reason for d in documents)
    assert reasons["subscription_create"] > 0, reasons
    assert reasons["subscription_cycle"] > 0, reasons
    for document in documents:
        assert document.einvoice_profile == FACTURX_EN16931, document.number
        stored = services.invoice_pdf_ensure(invoice=document)
        with stored.pdf.open("rb") as handle:
            _name, xml = facturx_lib.get_facturx_xml_from_pdf(handle.read(), check_xsd=True)
        tree = etree.fromstring(xml)
        sign = -1 if document.document_type == "credit_note" else 1
        assert _cents(tree, "TaxBasisTotalAmount") == sign * document.subtotal_cents, document.number
        assert _cents(tree, "TaxTotalAmount") == sign * document.vat_cents, document.number
        assert _cents(tree, "GrandTotalAmount") == sign * document.total_cents, document.number
        if sign > 0:
            assert _cents(tree, "TotalPrepaidAmount") == document.account_credit_applied_cents, (
                document.number
            )
            assert _cents(tree, "DuePayableAmount") == document.amount_due_cents, document.number
