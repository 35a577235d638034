"""Stripe delivers an event at least once (docs/rules/payments.md#webhooks): each is stored
once by its id, and however many times it arrives, what it means is applied once."""

import pytest
from django.core import mail

from credits.models import CreditGrant, GrantBucket
from gateways.stripe.models import StripeEvent
from subscriptions.models import EventKind, SubscriptionEvent
from tests.gateways.webhooks.conftest import NOW
from tests.gateways.webhooks.helpers import authenticate, intent_event

pytestmark = pytest.mark.django_db


def _purchased_credits(workspace) -> list[int]:
    return list(
        CreditGrant.objects.filter(workspace=workspace, bucket=GrantBucket.PURCHASED).values_list(
            "amount", flat=True
        )
    )


def _payments_recorded(invoice) -> int:
    return sum(
        1
        for data in SubscriptionEvent.objects.filter(
            workspace=invoice.workspace, kind=EventKind.PAYMENT_SUCCEEDED
        ).values_list("data", flat=True)
        if data.get("invoice") == invoice.pk
    )


def test_a_payment_delivered_three_times_pays_the_invoice_and_grants_the_credits_once(
    deliver, pack_awaiting_authentication
):
    purchase = pack_awaiting_authentication
    workspace = purchase.invoice.workspace
    authenticate(purchase.intent_id)  # the payer confirmed with the bank, the page never came back
    event = intent_event("payment_intent.succeeded", purchase.intent_id)
    mail.outbox.clear()

    responses = deliver(event, times=3)

    assert [r.status_code for r in responses] == [200, 200, 200]
    stored = StripeEvent.objects.get()
    assert (stored.event_id, stored.type, stored.state, stored.attempts) == (
        event["id"],
        "payment_intent.succeeded",
        "processed",
        1,
    )
    purchase.refresh()
    assert (purchase.invoice.status, purchase.invoice.paid_at) == ("paid", NOW)
    assert purchase.invoice.payment_reference == purchase.intent_id
    assert purchase.charge.status == "succeeded"
    assert _payments_recorded(purchase.invoice) == 1
    # One pack of 1 000 000 credits, granted once.
    assert _purchased_credits(workspace) == [1_000_000]
    receipts = [
        m for m in mail.outbox if m.subject == f"Reçu de paiement — facture {purchase.invoice.number}"
    ]
    assert len(receipts) == 1


def test_an_event_after_the_synchronous_answer_changes_nothing(deliver, paid_business):
    purchase = paid_business
    workspace = purchase.invoice.workspace
    events_before = SubscriptionEvent.objects.filter(workspace=workspace).count()
    mail.outbox.clear()

    responses = deliver(intent_event("payment_intent.succeeded", purchase.intent_id), times=2)

    assert [r.status_code for r in responses] == [200, 200]
    assert StripeEvent.objects.get().state == "processed"
    purchase.refresh()
    assert purchase.invoice.status == "paid"
    assert _payments_recorded(purchase.invoice) == 1
    assert SubscriptionEvent.objects.filter(workspace=workspace).count() == events_before
    assert mail.outbox == []


def test_two_events_about_one_payment_are_two_rows_and_one_effect(deliver, pack_awaiting_authentication):
    purchase = pack_awaiting_authentication
    authenticate(purchase.intent_id)

    deliver(intent_event("payment_intent.succeeded", purchase.intent_id))
    deliver(intent_event("payment_intent.succeeded", purchase.intent_id))

    assert list(StripeEvent.objects.values_list("state", flat=True)) == ["processed", "processed"]
    assert _payments_recorded(purchase.refresh().invoice) == 1
    assert _purchased_credits(purchase.invoice.workspace) == [1_000_000]
