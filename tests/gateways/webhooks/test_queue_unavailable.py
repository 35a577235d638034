"""The task queue may be unreachable when a delivery is stored: the endpoint then fails (Stripe
delivers the event again later), and the event must still be processed in the end, or at
least be shown to operators as not processed (docs/rules/payments.md#webhooks)."""

import pytest
from django.test import Client
from kombu.exceptions import OperationalError

from gateways.stripe import webhooks
from gateways.stripe.client import client as stripe_client
from gateways.stripe.models import StripeEvent
from invoices.models import DocumentType, Invoice
from tests.gateways.webhooks.helpers import latest_charge_of, post_event, refunded_event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue_down_once(monkeypatch):
    real = webhooks.enqueue
    calls = []

    def enqueue(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise OperationalError("Error 111 connecting to the broker. Connection refused.")
        return real(*args, **kwargs)

    monkeypatch.setattr(webhooks, "enqueue", enqueue)
    return calls


def test_a_delivery_whose_processing_could_not_be_queued_answers_503_so_stripe_retries_it(
    paid_business, queue_down_once
):
    stripe_client().v1.refunds.create(params={"payment_intent": paid_business.intent_id, "amount": 600})
    event = refunded_event(latest_charge_of(paid_business.intent_id))

    response = post_event(Client(raise_request_exception=False), event)

    assert response.status_code == 503
    assert StripeEvent.objects.get().state == "received"


def test_stripes_next_delivery_of_an_event_that_could_not_be_queued_gets_it_processed(
    paid_business, queue_down_once
):
    stripe_client().v1.refunds.create(params={"payment_intent": paid_business.intent_id, "amount": 600})
    event = refunded_event(latest_charge_of(paid_business.intent_id))
    assert post_event(Client(raise_request_exception=False), event).status_code == 503

    # Stripe delivers it again later; the queue is back.
    assert post_event(Client(), event).status_code == 200

    assert StripeEvent.objects.get().state == "processed"
    assert (
        Invoice.objects.filter(corrects=paid_business.invoice, document_type=DocumentType.CREDIT_NOTE).count()
        == 1
    )
