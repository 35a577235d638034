"""A refund made in Stripe's dashboard reaches us as ``charge.refunded``: each refund is
recorded once by a credit note correcting the invoice, the money went back to the card
(nothing on the account balance), and a fully refunded invoice becomes refunded
(docs/rules/payments.md#refunds)."""

from typing import Any

import pytest

from credits.models import CreditGrant, GrantBucket
from gateways.stripe.client import client as stripe_client
from gateways.stripe.models import StripeEvent
from invoices.models import AccountBalanceEntry, DocumentType, Invoice
from tests.gateways.webhooks.conftest import NOW, buy_one_credit_pack
from tests.gateways.webhooks.helpers import as_dict, build_event, latest_charge_of, refunded_event

pytestmark = pytest.mark.django_db


def refund_in_the_dashboard(intent_id: str, amount_cents: int | None = None):
    params: Any = {"payment_intent": intent_id}
    if amount_cents is not None:
        params["amount"] = amount_cents
    return stripe_client().v1.refunds.create(params=params)


def _credit_notes(invoice) -> list[tuple[int, int, int]]:
    """(amount before VAT, VAT, total) of each credit note correcting the invoice."""
    return list(
        Invoice.objects.filter(corrects=invoice, document_type=DocumentType.CREDIT_NOTE)
        .order_by("id")
        .values_list("subtotal_cents", "vat_cents", "total_cents")
    )


def _balance(workspace) -> list[tuple[int, int]]:
    return list(AccountBalanceEntry.objects.filter(workspace=workspace).values_list("id", "amount_cents"))


def test_a_partial_then_the_remaining_refund_make_two_credit_notes_and_refund_the_invoice(
    deliver, paid_business
):
    invoice = paid_business.invoice
    charge_id = latest_charge_of(paid_business.intent_id)
    balance = _balance(invoice.workspace)

    # 6,00 € given back in the dashboard, the event delivered twice.
    refund_in_the_dashboard(paid_business.intent_id, 600)
    deliver(refunded_event(charge_id), times=2)

    # 6,00 € with VAT at 20 %: 5,00 € before VAT + 1,00 € VAT.
    assert _credit_notes(invoice) == [(-500, -100, -600)]
    note = Invoice.objects.get(corrects=invoice)
    assert (note.workspace_id, note.amount_due_cents, note.vat_rate_bp) == (invoice.workspace_id, 0, 2_000)
    assert note.number.startswith("AV-2026-")
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    paid_business.charge.refresh_from_db()
    assert paid_business.charge.refunded_cents == 600

    # The other 18,00 € later: 15,00 € + 3,00 € VAT, and the invoice is refunded.
    refund_in_the_dashboard(paid_business.intent_id, 1_800)
    deliver(refunded_event(charge_id), times=2)

    assert _credit_notes(invoice) == [(-500, -100, -600), (-1_500, -300, -1_800)]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.refunded_at) == ("refunded", NOW)
    paid_business.charge.refresh_from_db()
    assert (paid_business.charge.status, paid_business.charge.refunded_cents) == ("succeeded", 2_400)
    # The money went back to the card: the account balance did not move.
    assert _balance(invoice.workspace) == balance
    # Two events (each delivered twice), stored once each.
    assert list(StripeEvent.objects.values_list("type", "state")) == [("charge.refunded", "processed")] * 2


def test_a_full_refund_in_one_go_reverses_every_line_of_the_invoice(deliver, paid_business):
    invoice = paid_business.invoice
    balance = _balance(invoice.workspace)

    refund_in_the_dashboard(paid_business.intent_id)
    deliver(refunded_event(latest_charge_of(paid_business.intent_id)))

    # 24,00 €: 20,00 € before VAT + 4,00 € VAT, line for line.
    assert _credit_notes(invoice) == [(-2_000, -400, -2_400)]
    note = Invoice.objects.get(corrects=invoice)
    assert sorted(note.lines.values_list("amount_cents", flat=True)) == sorted(
        -amount for amount in invoice.lines.values_list("amount_cents", flat=True)
    )
    invoice.refresh_from_db()
    assert invoice.status == "refunded"
    assert _balance(invoice.workspace) == balance


def test_a_refund_updated_event_after_the_refund_was_recorded_adds_nothing(deliver, paid_business):
    refund = refund_in_the_dashboard(paid_business.intent_id, 600)
    deliver(refunded_event(latest_charge_of(paid_business.intent_id)))

    deliver(build_event("refund.updated", as_dict(refund)))

    assert _credit_notes(paid_business.invoice) == [(-500, -100, -600)]
    assert list(StripeEvent.objects.order_by("id").values_list("type", "state")) == [
        ("charge.refunded", "processed"),
        ("refund.updated", "processed"),
    ]


def test_a_refund_updated_event_alone_records_the_refund(deliver, paid_business):
    refund = refund_in_the_dashboard(paid_business.intent_id, 1_200)

    deliver(build_event("refund.updated", as_dict(refund)))

    # 12,00 €: 10,00 € + 2,00 € VAT.
    assert _credit_notes(paid_business.invoice) == [(-1_000, -200, -1_200)]


def test_a_stale_refund_event_delivered_after_a_later_refund_records_what_stripe_says_now(
    deliver, paid_business
):
    """The first refund's event arrives after the second refund: Stripe's charge, read
    again, says 24,00 € in all, and the invoice is refunded at once."""
    charge_id = latest_charge_of(paid_business.intent_id)
    refund_in_the_dashboard(paid_business.intent_id, 600)
    first = refunded_event(charge_id)
    refund_in_the_dashboard(paid_business.intent_id, 1_800)
    second = refunded_event(charge_id)

    deliver(first)
    deliver(second)

    assert _credit_notes(paid_business.invoice) == [(-2_000, -400, -2_400)]
    paid_business.invoice.refresh_from_db()
    assert paid_business.invoice.status == "refunded"


def test_a_fully_refunded_credit_pack_takes_its_unused_credits_back(deliver, team_starter, owner):
    purchase = buy_one_credit_pack(team_starter, owner)
    assert purchase.invoice.status == "paid"
    balance = _balance(team_starter)

    refund_in_the_dashboard(purchase.intent_id)
    deliver(refunded_event(latest_charge_of(purchase.intent_id)))

    # 6,00 €: 5,00 € before VAT + 1,00 € VAT.
    assert _credit_notes(purchase.invoice) == [(-500, -100, -600)]
    assert purchase.refresh().invoice.status == "refunded"
    grant = CreditGrant.objects.get(workspace=team_starter, bucket=GrantBucket.PURCHASED)
    assert (grant.amount, grant.remaining, grant.revoked_at) == (1_000_000, 0, NOW)
    assert _balance(team_starter) == balance
