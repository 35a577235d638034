"""The scheduled catch-up stores the events Stripe has that never reached us and processes
them like a delivery; the reconciliation reports the differences between our paid charges
and Stripe's succeeded PaymentIntents without changing anything
(docs/rules/payments.md#catch-up-and-reconciliation)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from gateways.stripe import reconciliation
from gateways.stripe.client import client as stripe_client
from gateways.stripe.models import StripeEvent
from invoices.models import Charge, Invoice
from subscriptions.models import EventKind, SubscriptionEvent
from tests.gateways.webhooks.conftest import NOW
from tests.gateways.webhooks.helpers import (
    authenticate,
    intent_event,
    latest_charge_of,
    refunded_event,
    requires_action_event,
)
from tests.subscriptions.conftest import at

pytestmark = pytest.mark.django_db


def _stripe_events_about(intent_id: str) -> list[tuple[str, str]]:
    """(id, type) of the events the offline Stripe has about that intent."""
    page = stripe_client().v1.events.list(params={"type": "payment_intent.succeeded", "limit": 100})
    return [(e.id, e.type) for e in page.auto_paging_iter() if e.data.object.get("id") == intent_id]


@pytest.fixture
def last_delivered(deliver, pack_awaiting_authentication):
    """The last event that reached us: Stripe's ``payment_intent.requires_action`` for the
    pack, sent when the intent was created (Stripe's clock)."""
    intent = stripe_client().v1.payment_intents.retrieve(pack_awaiting_authentication.intent_id)
    event = requires_action_event(pack_awaiting_authentication.intent_id)
    event["created"] = intent.created
    assert deliver(event)[0].status_code == 200
    return event


def test_an_event_that_never_reached_us_is_stored_and_processed_by_the_catch_up(
    django_capture_on_commit_callbacks, last_delivered, pack_awaiting_authentication
):
    purchase = pack_awaiting_authentication
    authenticate(purchase.intent_id)  # Stripe sends payment_intent.succeeded: lost on the way
    [(missed_id, _type)] = _stripe_events_about(purchase.intent_id)
    assert not StripeEvent.objects.filter(event_id=missed_id).exists()

    with django_capture_on_commit_callbacks(execute=True):
        stored = reconciliation.catch_up_events()

    assert stored >= 1
    missed = StripeEvent.objects.get(event_id=missed_id)
    assert (missed.type, missed.state, missed.attempts) == ("payment_intent.succeeded", "processed", 1)
    purchase.refresh()
    assert (purchase.invoice.status, purchase.invoice.paid_at, purchase.charge.status) == (
        "paid",
        NOW,
        "succeeded",
    )
    assert (
        SubscriptionEvent.objects.filter(
            workspace=purchase.invoice.workspace, kind=EventKind.PAYMENT_SUCCEEDED
        ).count()
        == 2  # the subscription on 1 April, the pack now
    )

    # The next run finds nothing new, and the delivery Stripe retries later changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert reconciliation.catch_up_events() == 0
    assert StripeEvent.objects.filter(event_id=missed_id).count() == 1


def test_the_catch_up_leaves_the_events_we_received_as_they_are(
    django_capture_on_commit_callbacks, last_delivered, pack_awaiting_authentication
):
    received = StripeEvent.objects.get(event_id=last_delivered["id"])

    with django_capture_on_commit_callbacks(execute=True):
        reconciliation.catch_up_events()

    again = StripeEvent.objects.get(event_id=last_delivered["id"])
    assert (again.state, again.attempts, again.payload) == (
        received.state,
        received.attempts,
        received.payload,
    )


def _everything(workspace) -> dict[str, Any]:
    return {
        "charges": list(Charge.objects.filter(workspace=workspace).values()),
        "invoices": list(Invoice.objects.filter(workspace=workspace).values("id", "status", "paid_at")),
        "events": StripeEvent.objects.count(),
    }


def test_the_report_lists_a_charge_paid_here_whose_intent_did_not_succeed_and_changes_nothing(
    pack_awaiting_authentication,
):
    purchase = pack_awaiting_authentication
    # Our row says paid; Stripe's intent still waits for the payer.
    Charge.objects.filter(pk=purchase.charge.pk).update(status="succeeded")
    workspace = purchase.invoice.workspace
    before = _everything(workspace)

    differences = reconciliation.reconciliation_report()

    about_it = [line for line in differences if purchase.intent_id in line]
    assert len(about_it) == 1
    assert about_it[0].startswith(f"charge invoice:{purchase.invoice.pk}:attempt:1 is paid here, ")
    assert "requires_action" in about_it[0]
    assert _everything(workspace) == before
    assert stripe_client().v1.payment_intents.retrieve(purchase.intent_id).status == "requires_action"


def test_the_report_lists_an_intent_that_succeeded_in_stripe_for_an_invoice_not_paid_here(
    pack_awaiting_authentication,
):
    purchase = pack_awaiting_authentication
    authenticate(purchase.intent_id)
    before = _everything(purchase.invoice.workspace)

    differences = reconciliation.reconciliation_report()

    assert (
        f"intent {purchase.intent_id} succeeded in Stripe for invoice {purchase.invoice.pk}, not paid here"
    ) in differences
    assert _everything(purchase.invoice.workspace) == before
    assert purchase.refresh().invoice.status == "open"


def test_a_charge_paid_in_both_is_not_reported(deliver, pack_awaiting_authentication):
    purchase = pack_awaiting_authentication
    authenticate(purchase.intent_id)
    deliver(intent_event("payment_intent.succeeded", purchase.intent_id))

    differences = reconciliation.reconciliation_report()

    assert not [line for line in differences if purchase.intent_id in line]


def test_a_charge_recorded_days_after_its_intent_was_created_is_not_reported(deliver, paid_business):
    """Refunded in the dashboard four days after the payment: our charge changed today, its
    intent was created before the window; both agree that it was paid."""
    created = stripe_client().v1.payment_intents.retrieve(paid_business.intent_id).created
    four_days_later = datetime.fromtimestamp(created, UTC) + timedelta(days=4)
    with time_machine.travel(four_days_later, tick=False):
        stripe_client().v1.refunds.create(params={"payment_intent": paid_business.intent_id, "amount": 600})
        deliver(refunded_event(latest_charge_of(paid_business.intent_id)))
        assert Charge.objects.get(pk=paid_business.charge.pk).updated_at == four_days_later

        differences = reconciliation.reconciliation_report()

    assert not [line for line in differences if paid_business.intent_id in line]


def test_a_charge_left_waiting_is_asked_again_after_ten_minutes(pack_awaiting_authentication):
    purchase = pack_awaiting_authentication
    authenticate(purchase.intent_id)  # paid in Stripe, no event reached us

    with time_machine.travel(at(2026, 4, 10, 10, 9), tick=False):
        assert reconciliation.recheck_waiting_charges() == 0
    assert purchase.refresh().invoice.status == "open"

    with time_machine.travel(at(2026, 4, 10, 10, 10), tick=False):
        assert reconciliation.recheck_waiting_charges() == 1
    purchase.refresh()
    assert (purchase.invoice.status, purchase.invoice.paid_at, purchase.charge.status) == (
        "paid",
        at(2026, 4, 10, 10, 10),
        "succeeded",
    )


def test_an_event_delivered_after_the_catch_up_processed_it_is_the_same_row(
    deliver, django_capture_on_commit_callbacks, last_delivered, pack_awaiting_authentication
):
    purchase = pack_awaiting_authentication
    authenticate(purchase.intent_id)
    with django_capture_on_commit_callbacks(execute=True):
        reconciliation.catch_up_events()
    [(missed_id, _type)] = _stripe_events_about(purchase.intent_id)
    late = intent_event("payment_intent.succeeded", purchase.intent_id)
    late["id"] = missed_id

    assert deliver(late)[0].status_code == 200

    assert StripeEvent.objects.filter(event_id=missed_id).count() == 1
    assert StripeEvent.objects.get(event_id=missed_id).attempts == 1
