"""Refunds (docs/rules/payments.md#refunds): money given back to the card through Stripe is
recorded once by a credit note correcting the invoice; nothing goes to the account
balance; a fully refunded invoice is refunded."""

from __future__ import annotations

import pytest

from billing.services.refunds import refund_payment, refund_recorded
from gateways.stripe.client import client
from invoices.errors import InvoiceNotRefundable
from invoices.models import Charge, DocumentType, Invoice, InvoiceStatus
from invoices.refunds import base_for_total
from invoices.selectors import account_balance_cents
from tests.factories import subscribe
from tests.subscriptions.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(billed_workspace, owner):
    """Business monthly: 20,00 € + 20 % VAT = 24,00 € charged on 1 March."""
    result = subscribe(billed_workspace, owner, "business", now=at(2026, 3, 1, 9))
    invoice = result.invoice
    assert (invoice.status, invoice.amount_due_cents) == (InvoiceStatus.PAID, 2_400)
    return invoice


def test_a_partial_then_the_full_refund_each_get_their_credit_note(paid):
    balance = account_balance_cents(paid.workspace)

    first = refund_payment(invoice_id=paid.pk, amount_cents=600, now=at(2026, 3, 5))

    assert (first.document_type, first.corrects_id) == (DocumentType.CREDIT_NOTE, paid.pk)
    assert first.status == InvoiceStatus.REFUNDED  # back to the card, not to the balance
    assert (first.subtotal_cents, first.vat_cents, first.total_cents) == (-500, -100, -600)
    paid.refresh_from_db()
    assert paid.status == InvoiceStatus.PAID

    rest = refund_payment(invoice_id=paid.pk, amount_cents=1_800, now=at(2026, 3, 6))

    assert (rest.subtotal_cents, rest.vat_cents, rest.total_cents) == (-1_500, -300, -1_800)
    paid.refresh_from_db()
    assert paid.status == InvoiceStatus.REFUNDED
    # The money went back to the card: the account balance did not move.
    assert account_balance_cents(paid.workspace) == balance
    charge = Charge.objects.get(invoice=paid)
    assert charge.refunded_cents == 2_400
    intent = client().v1.payment_intents.retrieve(charge.reference)
    latest = intent.latest_charge
    stripe_charge = client().v1.charges.retrieve(latest if isinstance(latest, str) else latest["id"])
    assert stripe_charge.amount_refunded == 2_400


def test_more_than_what_is_left_is_refused_and_nothing_moves(paid):
    refund_payment(invoice_id=paid.pk, amount_cents=2_000, now=at(2026, 3, 5))

    with pytest.raises(InvoiceNotRefundable):
        refund_payment(invoice_id=paid.pk, amount_cents=401, now=at(2026, 3, 6))
    with pytest.raises(InvoiceNotRefundable):
        refund_payment(invoice_id=paid.pk, amount_cents=0, now=at(2026, 3, 6))

    assert Charge.objects.get(invoice=paid).refunded_cents == 2_000
    assert Invoice.objects.filter(corrects=paid).count() == 1


def test_the_same_refund_told_twice_is_recorded_once(paid):
    charge = Charge.objects.get(invoice=paid)
    refund_payment(invoice_id=paid.pk, amount_cents=600, now=at(2026, 3, 5))

    assert refund_recorded(charge_id=charge.pk, refunded_total_cents=600, now=at(2026, 3, 5, 1)) is None
    assert Invoice.objects.filter(corrects=paid).count() == 1


def test_the_base_of_a_refund_is_the_one_whose_total_with_vat_is_the_amount_refunded():
    assert base_for_total(600, vat_rate_bp=2_000, reverse_charge=False) == 500
    assert base_for_total(1_000, vat_rate_bp=2_000, reverse_charge=False) == 833  # 8,33 + 1,67
    # 0,03 € cannot be reached at 20 %: 0,02 € (+0) or 0,03 € (+0,01 = 0,04 €); the nearest below.
    assert base_for_total(3, vat_rate_bp=2_000, reverse_charge=False) == 2
    assert base_for_total(1_000, vat_rate_bp=2_000, reverse_charge=True) == 1_000
