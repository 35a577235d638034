"""Stripe's event can arrive before our request to Stripe has returned: the handler finds
the charge by the invoice and attempt in the intent's metadata, and the synchronous answer
recorded afterwards changes nothing (docs/rules/payments.md#webhooks)."""

import pytest
from django.core import mail

from credits.models import CreditGrant, GrantBucket
from gateways.stripe.gateway import StripeGateway
from gateways.stripe.models import StripeEvent
from invoices.models import Charge
from subscriptions.models import EventKind, SubscriptionEvent
from tests.gateways.webhooks.conftest import NOW, buy_one_credit_pack
from tests.gateways.webhooks.helpers import intent_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def event_first(monkeypatch, deliver):
    """Stripe's ``payment_intent.succeeded`` is delivered and processed while our charge
    request is still on its way back; returns the charge rows as the webhook found them."""
    seen: list[tuple[str, str, str]] = []
    charge = StripeGateway.charge

    def charge_then_webhook(self, workspace, amount_cents, currency, idempotency_key, description, metadata):
        result = charge(self, workspace, amount_cents, currency, idempotency_key, description, metadata)
        row = Charge.objects.get(idempotency_key=idempotency_key)
        seen.append((row.status, row.reference, metadata["attempt"]))
        assert deliver(intent_event("payment_intent.succeeded", result.reference))[0].status_code == 200
        return result

    monkeypatch.setattr(StripeGateway, "charge", charge_then_webhook)
    return seen


def test_a_webhook_before_the_synchronous_answer_pays_the_invoice_once(team_starter, owner, event_first):
    mail.outbox.clear()

    purchase = buy_one_credit_pack(team_starter, owner)

    # The webhook found our charge still pending, without Stripe's id: by the metadata.
    assert event_first == [("pending", "", "1")]
    assert StripeEvent.objects.get().state == "processed"
    purchase.refresh()
    assert (purchase.invoice.status, purchase.invoice.paid_at) == ("paid", NOW)
    assert purchase.charge.status == "succeeded"
    assert purchase.charge.reference.startswith("pi_")
    assert purchase.invoice.payment_reference == purchase.charge.reference
    # The synchronous answer that came next was the same payment: nothing twice.
    payments = [
        data["invoice"]
        for data in SubscriptionEvent.objects.filter(
            workspace=team_starter, kind=EventKind.PAYMENT_SUCCEEDED
        ).values_list("data", flat=True)
    ]
    assert payments.count(purchase.invoice.pk) == 1
    assert list(
        CreditGrant.objects.filter(workspace=team_starter, bucket=GrantBucket.PURCHASED).values_list(
            "amount", flat=True
        )
    ) == [1_000_000]
    receipts = [
        m for m in mail.outbox if m.subject == f"Reçu de paiement — facture {purchase.invoice.number}"
    ]
    assert len(receipts) == 1
