"""An event whose processing crashes is retried (1, 2, 4, 8, 16 minutes), then marked
failed with the error; operators replay it from the admin or with
``manage.py stripe_events replay <event id>`` once the cause is gone
(docs/rules/payments.md#webhooks)."""

from io import StringIO

import pytest
from celery.exceptions import Retry
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEntry, Kind
from credits.models import CreditGrant, GrantBucket
from gateways.stripe import events
from gateways.stripe.models import StripeEvent
from subscriptions.models import EventKind, SubscriptionEvent
from tests.factories import UserFactory
from tests.gateways.webhooks.conftest import NOW
from tests.gateways.webhooks.helpers import StripeOutage, authenticate, intent_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_in_stripe(pack_awaiting_authentication):
    """The credit pack's payment went through in Stripe; its event is not processed yet."""
    authenticate(pack_awaiting_authentication.intent_id)
    return pack_awaiting_authentication


def _credits(workspace) -> list[int]:
    return list(
        CreditGrant.objects.filter(workspace=workspace, bucket=GrantBucket.PURCHASED).values_list(
            "amount", flat=True
        )
    )


def _payments(workspace) -> int:
    return SubscriptionEvent.objects.filter(workspace=workspace, kind=EventKind.PAYMENT_SUCCEEDED).count()


def _failed_event(deliver, purchase, monkeypatch) -> tuple[StripeEvent, StripeOutage]:
    outage = StripeOutage(monkeypatch)
    event = intent_event("payment_intent.succeeded", purchase.intent_id)
    assert deliver(event)[0].status_code == 200
    row = StripeEvent.objects.get(event_id=event["id"])
    assert row.state == "failed"
    return row, outage


def test_in_the_suites_eager_mode_a_crash_asks_celery_for_a_retry_in_one_minute(
    deliver, paid_in_stripe, monkeypatch
):
    StripeOutage(monkeypatch)

    with pytest.raises(Retry) as retry:
        deliver(intent_event("payment_intent.succeeded", paid_in_stripe.intent_id))

    assert retry.value.when == 60
    row = StripeEvent.objects.get()
    assert (row.state, row.attempts) == ("received", 1)
    assert "PaymentError" in row.last_error
    assert paid_in_stripe.refresh().invoice.status == "open"


def test_a_handler_that_keeps_crashing_is_retried_five_times_then_marked_failed(
    deliver, paid_in_stripe, monkeypatch, worker_retries
):
    outage = StripeOutage(monkeypatch)
    before = _payments(paid_in_stripe.invoice.workspace)

    response = deliver(intent_event("payment_intent.succeeded", paid_in_stripe.intent_id))[0]

    assert response.status_code == 200
    assert worker_retries == [60, 120, 240, 480, 960]
    assert outage.calls == 6
    row = StripeEvent.objects.get()
    assert (row.state, row.attempts, row.processed_at) == ("failed", 6, None)
    assert "gateways.base.PaymentError" in row.last_error
    assert "Le paiement n'a pas pu être traité" in row.last_error
    purchase = paid_in_stripe.refresh()
    assert (purchase.invoice.status, purchase.charge.status) == ("open", "requires_action")
    assert _credits(purchase.invoice.workspace) == []
    assert _payments(purchase.invoice.workspace) == before


def test_a_crash_that_goes_away_before_the_last_retry_is_processed_once(
    deliver, paid_in_stripe, monkeypatch, worker_retries
):
    StripeOutage(monkeypatch, failures=2)
    before = _payments(paid_in_stripe.invoice.workspace)

    deliver(intent_event("payment_intent.succeeded", paid_in_stripe.intent_id))

    assert worker_retries == [60, 120]
    row = StripeEvent.objects.get()
    assert (row.state, row.attempts, row.last_error, row.processed_at) == ("processed", 3, "", NOW)
    purchase = paid_in_stripe.refresh()
    assert (purchase.invoice.status, purchase.charge.status) == ("paid", "succeeded")
    assert _credits(purchase.invoice.workspace) == [1_000_000]
    assert _payments(purchase.invoice.workspace) == before + 1


def _replay_with_the_function(row, client) -> str:
    return events.replay(row.pk)


def _replay_in_the_admin(row, client) -> str:
    """The operator selects the event, reads the confirmation, gives a reason, confirms;
    the audit trail keeps the outcome and the reason."""
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    row = StripeEvent.objects.get(pk=row.pk)
    url = reverse("admin:stripe_gateway_stripeevent_changelist")
    selected = {"action": "replay_events", "_selected_action": [row.pk]}
    confirmation = client.post(url, selected)
    assert confirmation.status_code == 200
    assert row.event_id in confirmation.content.decode()
    assert client.post(url, {**selected, "confirm": "1"}).status_code == 400  # no reason, nothing done
    assert StripeEvent.objects.get(pk=row.pk).attempts == row.attempts
    response = client.post(url, {**selected, "confirm": "1", "reason": "Stripe est de nouveau joignable"})
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(kind=Kind.STRIPE_EVENT_REPLAYED, object_id=row.event_id).latest("id")
    assert (entry.actor_id, entry.reason, entry.before) == (
        operator.pk, "Stripe est de nouveau joignable", {"state": row.state},
    )  # fmt: skip
    assert entry.workspace_id is not None
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def _replay_with_the_command(row, client) -> str:
    out = StringIO()
    call_command("stripe_events", "replay", row.event_id, stdout=out)
    return out.getvalue()


REPLAYS = {
    "function": (_replay_with_the_function, "processed"),
    "admin": (_replay_in_the_admin, "1 événement(s) traité(s), 0 de nouveau en échec."),
    "command": (_replay_with_the_command, "{event_id}: processed\n"),
}


@pytest.mark.parametrize("way", REPLAYS)
def test_a_failed_event_replayed_once_the_cause_is_gone_is_processed_once(
    client, deliver, paid_in_stripe, monkeypatch, worker_retries, way
):
    row, outage = _failed_event(deliver, paid_in_stripe, monkeypatch)
    before = _payments(paid_in_stripe.invoice.workspace)
    outage.over()
    replay, said = REPLAYS[way]

    assert replay(row, client) == said.format(event_id=row.event_id)

    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error, row.processed_at) == ("processed", 7, "", NOW)
    purchase = paid_in_stripe.refresh()
    assert (purchase.invoice.status, purchase.invoice.paid_at, purchase.charge.status) == (
        "paid",
        NOW,
        "succeeded",
    )
    assert _credits(purchase.invoice.workspace) == [1_000_000]
    assert _payments(purchase.invoice.workspace) == before + 1
    # Replayed again: already processed, nothing more.
    assert events.replay(row.pk) == "processed"
    row.refresh_from_db()
    assert row.attempts == 7
    assert _credits(purchase.invoice.workspace) == [1_000_000]
    assert _payments(purchase.invoice.workspace) == before + 1


def test_a_replay_while_stripe_is_still_unreachable_fails_again_and_says_so(
    client, deliver, paid_in_stripe, monkeypatch, worker_retries
):
    row, _outage = _failed_event(deliver, paid_in_stripe, monkeypatch)

    with pytest.raises(CommandError) as failed:
        call_command("stripe_events", "replay", row.event_id)
    said_in_the_admin = _replay_in_the_admin(row, client)

    assert str(failed.value) == (
        f"Event {row.event_id} failed again: Le paiement n'a pas pu être traité. Réessayez dans quelques minutes."
    )
    assert said_in_the_admin == "0 événement(s) traité(s), 1 de nouveau en échec."
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("failed", 8)
    assert "PaymentError" in row.last_error
    assert paid_in_stripe.refresh().invoice.status == "open"
