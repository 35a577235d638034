"""Stripe may deliver one event several times at once (its retries overlapping a slow
answer): over real HTTP, against the running server, the event is stored once and its
payment applied once (docs/rules/payments.md#webhooks)."""

import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail

from credits.models import CreditGrant, GrantBucket
from gateways.stripe.models import StripeEvent
from subscriptions.models import EventKind, SubscriptionEvent
from tests.gateways.webhooks.helpers import (
    WEBHOOK_PATH,
    authenticate,
    body_of,
    intent_event,
    requires_action_event,
    signature,
)

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERIES = 16


def _post(url: str, body: bytes, header: str, start: threading.Barrier) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to 127.0.0.1
    start.wait()
    try:
        with opener.open(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_sixteen_simultaneous_deliveries_of_one_event_store_it_once_and_pay_once(
    live_server, pack_awaiting_authentication
):
    purchase = pack_awaiting_authentication
    authenticate(purchase.intent_id)
    event = intent_event("payment_intent.succeeded", purchase.intent_id)
    body = body_of(event)
    header = signature(body)
    start = threading.Barrier(DELIVERIES)
    mail.outbox.clear()

    with ThreadPoolExecutor(max_workers=DELIVERIES) as pool:
        statuses = list(
            pool.map(lambda _: _post(live_server.url + WEBHOOK_PATH, body, header, start), range(DELIVERIES))
        )

    assert statuses == [200] * DELIVERIES
    stored = StripeEvent.objects.get()
    assert (stored.event_id, stored.state, stored.attempts) == (event["id"], "processed", 1)
    purchase.refresh()
    assert (purchase.invoice.status, purchase.charge.status) == ("paid", "succeeded")
    workspace = purchase.invoice.workspace
    payments = [
        data["invoice"]
        for data in SubscriptionEvent.objects.filter(
            workspace=workspace, kind=EventKind.PAYMENT_SUCCEEDED
        ).values_list("data", flat=True)
    ]
    assert payments.count(purchase.invoice.pk) == 1
    assert list(
        CreditGrant.objects.filter(workspace=workspace, bucket=GrantBucket.PURCHASED).values_list(
            "amount", flat=True
        )
    ) == [1_000_000]
    assert [m.subject for m in mail.outbox] == [f"Reçu de paiement — facture {purchase.invoice.number}"]


def test_sixteen_simultaneous_deliveries_of_different_events_about_one_payment_pay_once(
    live_server, pack_awaiting_authentication
):
    """Late ``requires_action`` events and ``succeeded`` ones about one payment, all at once:
    each stored, the payment applied once, nobody asked to confirm it again."""
    purchase = pack_awaiting_authentication
    stale = [body_of(requires_action_event(purchase.intent_id)) for _ in range(DELIVERIES // 2)]
    authenticate(purchase.intent_id)
    fresh = [
        body_of(intent_event("payment_intent.succeeded", purchase.intent_id)) for _ in range(DELIVERIES // 2)
    ]
    bodies = [body for pair in zip(stale, fresh, strict=True) for body in pair]
    start = threading.Barrier(DELIVERIES)
    mail.outbox.clear()

    with ThreadPoolExecutor(max_workers=DELIVERIES) as pool:
        statuses = list(
            pool.map(lambda body: _post(live_server.url + WEBHOOK_PATH, body, signature(body), start), bodies)
        )

    assert statuses == [200] * DELIVERIES
    assert list(StripeEvent.objects.values_list("state", flat=True)) == ["processed"] * DELIVERIES
    workspace = purchase.invoice.workspace
    assert (
        SubscriptionEvent.objects.filter(workspace=workspace, kind=EventKind.PAYMENT_SUCCEEDED)
        .filter(data__invoice=purchase.invoice.pk)
        .count()
        == 1
    )
    assert list(
        CreditGrant.objects.filter(workspace=workspace, bucket=GrantBucket.PURCHASED).values_list(
            "amount", flat=True
        )
    ) == [1_000_000]
    assert [m.subject for m in mail.outbox] == [f"Reçu de paiement — facture {purchase.invoice.number}"]
