"""An event of a type we do not handle, or about nothing of ours, is acknowledged and stored
as ignored with the reason (docs/rules/payments.md#webhooks)."""

import time

import pytest

from gateways.stripe.client import client as stripe_client
from gateways.stripe.models import StripeEvent
from invoices.models import Charge, Invoice
from subscriptions.models import SubscriptionEvent
from tests.gateways.webhooks.helpers import (
    authenticate,
    build_event,
    fixture,
    intent_event,
    new_event_id,
)

pytestmark = pytest.mark.django_db


def _foreign_payment(metadata: dict[str, str] | None = None) -> str:
    """A payment another application of the Stripe account made (no customer of ours)."""
    params = {"amount": 4_620, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    if metadata is not None:
        params["metadata"] = metadata
    intent = stripe_client().v1.payment_intents.create(params=params)  # type: ignore[arg-type]
    assert intent.status == "succeeded"
    return str(intent.id)


def test_an_event_of_a_type_we_do_not_handle_is_stored_as_ignored(deliver, paid_business):
    # Stripe Billing's own subscriptions: this application bills without them.
    deleted = fixture("customer.subscription.deleted.json")
    deleted.update(id=new_event_id(), created=int(time.time()))

    response = deliver(deleted)[0]

    assert response.status_code == 200
    stored = StripeEvent.objects.get()
    assert (stored.event_id, stored.type, stored.state, stored.note) == (
        deleted["id"],
        "customer.subscription.deleted",
        "ignored",
        "type customer.subscription.deleted is not handled",
    )
    assert stored.payload == deleted
    assert stored.processed_at is not None
    assert paid_business.refresh().invoice.status == "paid"


def test_a_payment_that_is_not_ours_is_ignored(deliver, paid_business):
    workspace = paid_business.invoice.workspace
    before = SubscriptionEvent.objects.filter(workspace=workspace).count()

    deliver(intent_event("payment_intent.succeeded", _foreign_payment()))

    stored = StripeEvent.objects.get()
    assert (stored.state, stored.note) == ("ignored", "not one of our charges")
    assert Invoice.objects.filter(workspace=workspace).count() == 1
    assert SubscriptionEvent.objects.filter(workspace=workspace).count() == before


def test_a_payment_whose_metadata_names_no_invoice_of_ours_is_ignored(deliver, paid_business):
    foreign = _foreign_payment({"invoice_id": "999999999", "attempt": "1", "workspace_id": "elsewhere"})

    deliver(intent_event("payment_intent.succeeded", foreign))

    assert list(StripeEvent.objects.values_list("state", "note")) == [("ignored", "not one of our charges")]


def test_a_refund_of_a_charge_that_is_not_ours_is_ignored(deliver, paid_business):
    refunded = fixture("charge.refunded.json")  # a captured event about another account's charge
    refunded.update(id=new_event_id(), created=int(time.time()))

    deliver(refunded)

    assert list(StripeEvent.objects.values_list("type", "state", "note")) == [
        ("charge.refunded", "ignored", "not one of our charges")
    ]
    assert Invoice.objects.filter(workspace=paid_business.invoice.workspace).count() == 1


def test_a_card_saved_by_someone_else_is_ignored(deliver, paid_business):
    method = fixture("objects/payment_method.json")  # Stripe's sample card, not one of ours

    deliver(build_event("payment_method.updated", method))
    deliver(build_event("payment_method.detached", method))

    assert list(StripeEvent.objects.order_by("id").values_list("type", "state", "note")) == [
        ("payment_method.updated", "ignored", "not one of our cards"),
        ("payment_method.detached", "ignored", "not one of our cards"),
    ]


def test_a_setup_intent_of_a_customer_that_is_not_ours_is_ignored(deliver, paid_business):
    setup = stripe_client().v1.setup_intents.create(params={"usage": "off_session"})

    deliver(
        build_event("setup_intent.succeeded", {"id": setup.id, "object": "setup_intent", "customer": None})
    )

    assert list(StripeEvent.objects.values_list("state", "note")) == [("ignored", "not one of our customers")]


def test_a_payment_from_another_application_naming_our_invoice_does_not_pay_it(
    deliver, pack_awaiting_authentication
):
    """A Stripe account's events reach every endpoint: another environment on the same
    test account (staging, a developer's machine) numbers its invoices like ours. Its
    payment must not settle our charge, which Stripe answered with an intent of its own."""
    purchase = pack_awaiting_authentication
    metadata = {
        "invoice_id": str(purchase.invoice.pk),
        "invoice_number": str(purchase.invoice.number),
        "workspace_id": "another-environment",
        "attempt": str(purchase.charge.attempt),
    }
    foreign = _foreign_payment(metadata)

    deliver(intent_event("payment_intent.succeeded", foreign))

    purchase.refresh()
    assert (purchase.invoice.status, purchase.charge.status) == ("open", "requires_action")
    assert purchase.charge.reference != foreign
    assert StripeEvent.objects.get().state == "ignored"


def test_our_own_payment_is_still_found_after_a_foreign_one_was_ignored(
    deliver, pack_awaiting_authentication
):
    purchase = pack_awaiting_authentication
    authenticate(purchase.intent_id)

    deliver(intent_event("payment_intent.succeeded", _foreign_payment()))
    deliver(intent_event("payment_intent.succeeded", purchase.intent_id))

    assert list(StripeEvent.objects.order_by("id").values_list("state", flat=True)) == [
        "ignored",
        "processed",
    ]
    assert list(Charge.objects.filter(invoice=purchase.invoice).values_list("status", flat=True)) == [
        "succeeded"
    ]
