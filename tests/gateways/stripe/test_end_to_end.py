"""End to end over real HTTP: stripe-python → the offline Stripe → its signed webhook →
our endpoint on a live server → the stored event processed → the invoice paid.

The test run's offline Stripe sends no webhooks until told where to: each test points it
at the live server (signed with the test suite's secret), and away again at the end.
Nothing here travels in time: the webhook's signature is checked against the real clock.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from billing import services
from billing.seat_sweeps import run_seat_sweeps
from billing.sweeps import run_billing_sweeps
from config import embedded
from gateways.stripe.models import EventState, StripeEvent
from invoices.models import Invoice, InvoiceStatus
from subscriptions.models import Subscription
from tests.factories import price_id, subscribe
from tests.gateways.stripe.support import UNREACHABLE, VISA_OK, Network, intents_for, save_card
from tests.teams.conftest import join

pytestmark = pytest.mark.django_db(transaction=True)

#: localstripe sends an event about a second after the change; allow for a slow machine.
DELIVERY_TIMEOUT = 10.0


@pytest.fixture
def webhook(live_server):
    """The offline Stripe delivers its events to this test's live server."""
    embedded._register_webhook(
        settings.STRIPE_API_BASE,
        live_server.url + embedded.STRIPE_WEBHOOK_PATH,
        embedded.TEST_SUITE_WEBHOOK_SECRET,
    )
    yield
    # Nothing listens there: later tests' events go nowhere.
    embedded._register_webhook(
        settings.STRIPE_API_BASE,
        UNREACHABLE + embedded.STRIPE_WEBHOOK_PATH,
        embedded.TEST_SUITE_WEBHOOK_SECRET,
    )


@pytest.fixture
def paying(billed_workspace, owner):
    save_card(billed_workspace, owner, VISA_OK, now=timezone.now())
    return billed_workspace


def delivered(invoice: Invoice, event_type: str = "payment_intent.succeeded") -> StripeEvent:
    """The stored event about the invoice's PaymentIntent, once processed (waits for it)."""
    (intent,) = [i for i in intents_for(invoice) if i.status == "succeeded"]
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        event = StripeEvent.objects.filter(type=event_type, payload__data__object__id=intent.id).first()
        if event is not None and event.state != EventState.RECEIVED:
            return event
        if time.monotonic() > deadline:
            pytest.fail(f"no processed {event_type} event for {intent.id} within {DELIVERY_TIMEOUT:.0f} s")
        time.sleep(0.1)


def _paid_and_delivered(invoice: Invoice) -> StripeEvent:
    event = delivered(invoice)
    assert (event.state, event.note, event.last_error) == (EventState.PROCESSED, "", "")
    assert event.payload["data"]["object"]["metadata"]["invoice_id"] == str(invoice.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    return event


def test_a_subscription_is_paid_and_its_event_delivered(webhook, paying, owner):
    result = subscribe(paying, owner, "business", now=timezone.now())

    _paid_and_delivered(result.invoice)
    assert Subscription.objects.get(workspace=paying).plan.code == "business"


def test_a_renewal_is_paid_and_its_event_delivered(webhook, paying, owner):
    subscribe(paying, owner, "business", now=timezone.now() - timedelta(days=40))

    run_billing_sweeps(now=timezone.now())

    _paid_and_delivered(Invoice.objects.get(workspace=paying, source__startswith="renewal:"))


def _customize(workspace, owner, *, extra_seats: int, credit_packs: int):
    now = timezone.now()
    preview = services.preview_customize(
        workspace=workspace, extra_seats=extra_seats, credit_packs=credit_packs, now=now
    )
    return services.apply_customize(
        workspace=workspace,
        actor=owner,
        extra_seats=extra_seats,
        credit_packs=credit_packs,
        preview=preview,
        now=now,
    )


def test_a_customization_is_paid_and_its_event_delivered(webhook, paying, owner):
    subscribe(paying, owner, "pro", now=timezone.now())

    result = _customize(paying, owner, extra_seats=1, credit_packs=0)

    _paid_and_delivered(result.invoice)
    assert Subscription.objects.get(workspace=paying).extra_seats == 1


def test_a_credit_pack_is_paid_and_its_event_delivered(webhook, paying, owner):
    subscribe(paying, owner, "pro", now=timezone.now())

    result = _customize(paying, owner, extra_seats=0, credit_packs=1)

    _paid_and_delivered(result.invoice)
    assert result.invoice.lines.get().kind == "extra_credits"


def test_a_seat_charge_is_paid_and_its_event_delivered(webhook, paying, owner):
    subscribe(paying, owner, "business", now=timezone.now() - timedelta(hours=1))
    join(paying, owner, "dana@acme.test")

    run_seat_sweeps(now=timezone.now() + timedelta(days=1))

    _paid_and_delivered(Invoice.objects.get(workspace=paying, source__startswith="seats:"))


def test_the_webhook_alone_pays_a_purchase_whose_answer_was_lost(
    webhook, paying, owner, settings, monkeypatch
):
    network = Network(settings, monkeypatch)
    queued: list[Any] = []
    monkeypatch.setattr(
        "billing.services.lifecycle.enqueue_task", lambda *args, **kwargs: queued.append(args)
    )
    now = timezone.now()
    preview = services.preview_subscribe(workspace=paying, price_id=price_id("business"), now=now)

    network.lose_answers(1)
    result = services.apply_subscribe(
        workspace=paying, actor=owner, price_id=price_id("business"), preview=preview, now=now
    )
    assert result.invoice.status == InvoiceStatus.OPEN
    assert len(queued) == 1  # the retry is queued, and not run here

    _paid_and_delivered(result.invoice)
    assert Subscription.objects.get(workspace=paying).plan.code == "business"
