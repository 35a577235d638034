"""Only Stripe's signed, fresh events are accepted (docs/rules/payments.md#webhooks): a bad
signature, a stale timestamp or a body that is not an event answers 400 and stores nothing;
during a rotation of the signing secret, each current secret is accepted."""

import json
import time

import pytest

from gateways.stripe.models import StripeEvent
from tests.gateways.webhooks.helpers import (
    authenticate,
    body_of,
    intent_event,
    post_body,
    post_event,
    signature,
)

pytestmark = pytest.mark.django_db

SUITE_SECRET = "whsec_test_suite"
NEW_SECRET = "whsec_rotated_in_2026"


@pytest.fixture
def succeeded_event(pack_awaiting_authentication):
    """A real payment that went through in Stripe, its invoice still open here."""
    authenticate(pack_awaiting_authentication.intent_id)
    return intent_event("payment_intent.succeeded", pack_awaiting_authentication.intent_id)


def _nothing_happened(purchase) -> bool:
    purchase.refresh()
    return (
        not StripeEvent.objects.exists()
        and purchase.invoice.status == "open"
        and purchase.charge.status == "requires_action"
    )


def test_the_test_suite_signs_with_the_secret_the_settings_announce(settings):
    assert settings.STRIPE_WEBHOOK_SECRETS == [SUITE_SECRET]
    assert settings.STRIPE_WEBHOOK_TOLERANCE == 300


def test_stripes_signature_scheme_gives_the_documented_digest():
    # HMAC-SHA256 of "1700000000.<body>" keyed with the whole secret, in lowercase hex.
    body = b'{"id":"evt_test_webhook","object":"event"}'
    assert signature(body, "whsec_test_secret", 1700000000) == (
        "t=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"
    )


def test_a_signed_fresh_event_is_accepted_and_stored(client, succeeded_event):
    response = post_event(client, succeeded_event)

    assert response.status_code == 200
    assert StripeEvent.objects.get().event_id == succeeded_event["id"]


def test_a_forged_signature_is_refused_and_pays_nothing(
    client, succeeded_event, pack_awaiting_authentication
):
    response = post_event(client, succeeded_event, secret="whsec_guessed_by_an_attacker")

    assert response.status_code == 400
    assert _nothing_happened(pack_awaiting_authentication)


def test_a_signature_of_another_body_is_refused(client, succeeded_event, pack_awaiting_authentication):
    header = signature(body_of(succeeded_event))
    tampered = dict(succeeded_event, id="evt_replayed_with_another_id")

    response = post_body(client, body_of(tampered), header)

    assert response.status_code == 400
    assert _nothing_happened(pack_awaiting_authentication)


@pytest.mark.parametrize(("age", "status"), [(301, 400), (3_600, 400), (299, 200)])
def test_a_timestamp_older_than_300_seconds_is_refused(client, succeeded_event, age, status):
    response = post_event(client, succeeded_event, timestamp=int(time.time()) - age)

    assert response.status_code == status
    assert StripeEvent.objects.count() == (1 if status == 200 else 0)


@pytest.mark.parametrize("header", [None, "", "t=1700000000", "v1=abcdef", "garbage"])
def test_a_missing_or_unreadable_signature_header_is_refused(
    client, succeeded_event, pack_awaiting_authentication, header
):
    response = post_body(client, body_of(succeeded_event), header)

    assert response.status_code == 400
    assert _nothing_happened(pack_awaiting_authentication)


@pytest.mark.parametrize(
    "body",
    [
        b"this is not JSON",
        b"\xff\xfe not UTF-8",
        b"",
        b"[1, 2, 3]",
        b'"evt_1"',
        b'{"id": "evt_1", "object": "event"}',
        b'{"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "created": 1775815200}',
        b'{"id": "evt_1", "type": "payment_intent.succeeded", "created": "yesterday", "data": {"object": {}}}',
        b'{"id": "", "type": "payment_intent.succeeded", "created": 1775815200, "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "payment_intent.succeeded", "created": 1775815200, "data": {"object": "pi_1"}}',
    ],
    ids=[
        "not-json",
        "not-utf8",
        "empty",
        "a-list",
        "a-string",
        "no-type",
        "no-data",
        "created-not-a-number",
        "empty-id",
        "object-not-an-object",
    ],
)
def test_a_signed_body_that_is_not_an_event_is_refused_and_nothing_is_stored(client, body):
    response = post_body(client, body, signature(body))

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_get_is_not_a_delivery(client):
    assert client.get("/webhooks/stripe/").status_code == 405
    assert not StripeEvent.objects.exists()


def test_during_a_rotation_events_signed_with_either_current_secret_are_accepted(
    client, settings, pack_awaiting_authentication
):
    settings.STRIPE_WEBHOOK_SECRETS = [NEW_SECRET, SUITE_SECRET]
    authenticate(pack_awaiting_authentication.intent_id)
    with_new = intent_event("payment_intent.succeeded", pack_awaiting_authentication.intent_id)
    with_old = intent_event("payment_intent.succeeded", pack_awaiting_authentication.intent_id)

    assert post_event(client, with_new, secret=NEW_SECRET).status_code == 200
    assert post_event(client, with_old, secret=SUITE_SECRET).status_code == 200
    assert set(StripeEvent.objects.values_list("event_id", flat=True)) == {with_new["id"], with_old["id"]}


def test_a_header_carrying_a_signature_per_secret_is_accepted_by_the_current_one(
    client, settings, succeeded_event
):
    # While a secret rolls, Stripe signs each delivery with both and sends both signatures.
    settings.STRIPE_WEBHOOK_SECRETS = [NEW_SECRET]
    body = body_of(succeeded_event)
    moment = int(time.time())
    old = signature(body, "whsec_retired", moment).split(",")[1]
    new = signature(body, NEW_SECRET, moment).split(",")[1]

    response = post_body(client, body, f"t={moment},{old},{new}")

    assert response.status_code == 200
    assert StripeEvent.objects.count() == 1


def test_an_event_signed_with_a_retired_secret_is_refused(client, settings, succeeded_event):
    settings.STRIPE_WEBHOOK_SECRETS = [NEW_SECRET]

    response = post_event(client, succeeded_event, secret=SUITE_SECRET)

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_the_body_is_verified_as_sent_not_as_parsed(client, succeeded_event):
    # The same event, compact instead of pretty-printed: its own signature is needed.
    pretty = body_of(succeeded_event)
    compact = json.dumps(succeeded_event, separators=(",", ":")).encode()

    assert post_body(client, compact, signature(pretty)).status_code == 400
    assert post_body(client, compact, signature(compact)).status_code == 200
