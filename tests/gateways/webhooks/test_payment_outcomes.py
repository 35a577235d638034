"""What a ``payment_intent.*`` event brings, read again from Stripe, is applied like the
synchronous answer (docs/rules/payments.md#charging-an-invoice): a change waiting for a
payment that failed or was cancelled lapses and its invoice is voided."""

import pytest

from credits.models import CreditGrant, GrantBucket
from gateways.stripe.client import client as stripe_client
from gateways.stripe.models import StripeEvent
from subscriptions.models import PendingChange
from tests.gateways.webhooks.helpers import intent_event

pytestmark = pytest.mark.django_db


def fail_authentication(intent_id: str) -> None:
    """The payer fails the bank's check on the confirmation page (the offline Stripe.js call)."""
    intent = stripe_client().v1.payment_intents.retrieve(intent_id)
    stripe_client().raw_request(
        "post",
        f"/v1/payment_intents/{intent_id}/_authenticate",
        client_secret=intent.client_secret,
        success="false",
    )


def _purchased(workspace) -> list[int]:
    return list(
        CreditGrant.objects.filter(workspace=workspace, bucket=GrantBucket.PURCHASED).values_list(
            "amount", flat=True
        )
    )


def test_a_payment_the_payer_failed_to_authenticate_voids_the_waiting_purchase(
    deliver, pack_awaiting_authentication
):
    purchase = pack_awaiting_authentication
    fail_authentication(purchase.intent_id)

    deliver(intent_event("payment_intent.payment_failed", purchase.intent_id))

    purchase.refresh()
    assert (purchase.charge.status, purchase.charge.failure_message) == (
        "failed",
        "Le paiement n'a pas été authentifié.",
    )
    assert purchase.invoice.status == "void"
    assert PendingChange.objects.get(invoice=purchase.invoice).state == "lapsed"
    assert _purchased(purchase.invoice.workspace) == []
    assert StripeEvent.objects.get().state == "processed"


def test_a_payment_cancelled_in_stripe_voids_the_waiting_purchase(deliver, pack_awaiting_authentication):
    purchase = pack_awaiting_authentication
    stripe_client().v1.payment_intents.cancel(purchase.intent_id)

    deliver(intent_event("payment_intent.canceled", purchase.intent_id))

    purchase.refresh()
    assert (purchase.charge.status, purchase.invoice.status) == ("canceled", "void")
    assert PendingChange.objects.get(invoice=purchase.invoice).state == "lapsed"
    assert _purchased(purchase.invoice.workspace) == []


def test_a_success_event_after_the_purchase_lapsed_does_not_pay_the_void_invoice(
    deliver, pack_awaiting_authentication
):
    purchase = pack_awaiting_authentication
    stripe_client().v1.payment_intents.cancel(purchase.intent_id)
    deliver(intent_event("payment_intent.canceled", purchase.intent_id))

    # A signed event whose payload claims success: Stripe, read again, says cancelled.
    deliver(intent_event("payment_intent.succeeded", purchase.intent_id, status="succeeded"))

    purchase.refresh()
    assert (purchase.charge.status, purchase.invoice.status) == ("canceled", "void")
    assert _purchased(purchase.invoice.workspace) == []
