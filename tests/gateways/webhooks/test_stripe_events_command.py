"""``manage.py stripe_events list [--state …]`` shows operators the stored events;
``manage.py stripe_events replay <event id>`` processes one again."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gateways.stripe.models import StripeEvent
from tests.gateways.webhooks.helpers import StripeOutage, authenticate, intent_event

pytestmark = pytest.mark.django_db


def _listed(*args: str) -> list[list[str]]:
    out = StringIO()
    call_command("stripe_events", "list", *args, stdout=out)
    return [line.split("\t") for line in out.getvalue().splitlines()]


@pytest.fixture
def three_events(deliver, pack_awaiting_authentication, monkeypatch, worker_retries):
    """One processed, then two that failed while Stripe could not be reached."""
    authenticate(pack_awaiting_authentication.intent_id)
    processed = intent_event("payment_intent.succeeded", pack_awaiting_authentication.intent_id)
    deliver(processed)
    StripeOutage(monkeypatch)
    failed = [
        intent_event("payment_intent.succeeded", pack_awaiting_authentication.intent_id) for _ in range(2)
    ]
    for event in failed:
        deliver(event)
    return processed["id"], [event["id"] for event in failed]


def test_list_with_state_failed_shows_only_the_failed_events_with_their_attempts(three_events):
    _processed, failed = three_events

    rows = _listed("--state", "failed")

    assert sorted(rows) == sorted(
        [[event_id, "payment_intent.succeeded", "failed", "6", ""] for event_id in failed]
    )


def test_list_shows_every_stored_event_and_limit_keeps_the_latest(three_events):
    processed, failed = three_events

    assert sorted(row[0] for row in _listed()) == sorted([processed, *failed])
    assert [row[2] for row in _listed("--state", "processed")] == ["processed"]
    assert [row[0] for row in _listed("--limit", "1")] == [failed[-1]]


def test_list_refuses_a_state_that_does_not_exist(db):
    with pytest.raises(CommandError, match="invalid choice: 'broken'"):
        call_command("stripe_events", "list", "--state", "broken")


def test_replay_of_an_unknown_event_id_says_so(db):
    with pytest.raises(CommandError) as unknown:
        call_command("stripe_events", "replay", "evt_never_received")

    assert str(unknown.value) == "No stored Stripe event has the id 'evt_never_received'."
    assert not StripeEvent.objects.exists()


def test_replay_needs_an_event_id(db):
    with pytest.raises(CommandError, match="event_id"):
        call_command("stripe_events", "replay")
