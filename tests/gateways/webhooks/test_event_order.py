"""Stripe does not promise the order of its events: an event is a prompt to read the payment
again, and a paid invoice never moves back (docs/rules/payments.md#webhooks)."""

import pytest
from django.core import mail

from gateways.stripe.models import StripeEvent
from invoices.models import Charge
from subscriptions.models import EventKind, Subscription, SubscriptionEvent
from tests.gateways.webhooks.conftest import NOW
from tests.gateways.webhooks.helpers import (
    authenticate,
    intent_event,
    payment_failed_event,
    requires_action_event,
)

pytestmark = pytest.mark.django_db


def _kinds(workspace) -> list[str]:
    return list(
        SubscriptionEvent.objects.filter(workspace=workspace, created_at__gte=NOW).values_list(
            "kind", flat=True
        )
    )


def test_late_requires_action_and_payment_failed_events_leave_a_paid_invoice_paid(
    deliver, pack_awaiting_authentication
):
    purchase = pack_awaiting_authentication
    workspace = purchase.invoice.workspace
    # What Stripe sent while the payment waited, before the payer confirmed it.
    stale_action = requires_action_event(purchase.intent_id)
    stale_failure = payment_failed_event(purchase.intent_id)
    authenticate(purchase.intent_id)
    deliver(intent_event("payment_intent.succeeded", purchase.intent_id))
    mail.outbox.clear()

    deliver(stale_action)
    deliver(stale_failure)

    purchase.refresh()
    assert (purchase.invoice.status, purchase.invoice.paid_at, purchase.invoice.attempt_count) == (
        "paid",
        NOW,
        0,
    )
    assert purchase.charge.status == "succeeded"
    assert purchase.charge.failure_message == ""
    assert Subscription.objects.get(workspace=workspace).status == "active"
    assert list(StripeEvent.objects.order_by("id").values_list("type", "state")) == [
        ("payment_intent.succeeded", "processed"),
        ("payment_intent.requires_action", "processed"),
        ("payment_intent.payment_failed", "processed"),
    ]
    # Nobody is asked to confirm a paid invoice, nor told that it failed.
    assert mail.outbox == []
    assert _kinds(workspace).count(EventKind.PAYMENT_SUCCEEDED) == 1
    assert EventKind.PAYMENT_FAILED not in _kinds(workspace)


def test_a_stale_requires_action_event_about_a_payment_that_went_through_pays_the_invoice(
    deliver, pack_awaiting_authentication
):
    purchase = pack_awaiting_authentication
    stale_action = requires_action_event(purchase.intent_id)
    authenticate(purchase.intent_id)
    mail.outbox.clear()

    deliver(stale_action)

    purchase.refresh()
    assert (purchase.invoice.status, purchase.charge.status) == ("paid", "succeeded")
    assert _kinds(purchase.invoice.workspace).count(EventKind.PAYMENT_SUCCEEDED) == 1
    # Only the receipt: no second request to confirm the payment.
    assert [m.subject for m in mail.outbox] == [f"Reçu de paiement — facture {purchase.invoice.number}"]


def test_a_failure_event_about_a_payment_stripe_now_says_succeeded_does_not_fail_it(deliver, paid_business):
    purchase = paid_business

    deliver(payment_failed_event(purchase.intent_id))
    deliver(requires_action_event(purchase.intent_id))

    purchase.refresh()
    assert (purchase.invoice.status, purchase.invoice.attempt_count) == ("paid", 0)
    assert list(Charge.objects.filter(invoice=purchase.invoice).values_list("status", flat=True)) == [
        "succeeded"
    ]
