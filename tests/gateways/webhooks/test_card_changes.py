"""Cards changed on Stripe's side: after ``payment_method.automatically_updated`` or
``.updated`` the stored brand, last 4 and expiry follow what Stripe says now; after
``payment_method.detached`` the card is no longer on file
(docs/rules/payments.md#webhooks)."""

import time

import pytest

from gateways.base import CardInfo, get_gateway
from gateways.stripe.client import client as stripe_client
from gateways.stripe.gateway import StripeGateway
from gateways.stripe.models import StripeEvent
from subscriptions.models import PaymentMethod
from tests.gateways.webhooks.helpers import as_dict, build_event, fixture, new_event_id, stored_card_event

pytestmark = pytest.mark.django_db


def reissue_in_stripe(method_id: str, *, last4: str, exp_month: int, exp_year: int) -> None:
    """The card network's updater gives the card a new expiry (and, reissued, new last 4).

    The offline Stripe replaces a PaymentMethod's whole ``card`` on update (Stripe changes
    only the fields sent), so every field a receipt shows is sent."""
    card = as_dict(stripe_client().v1.payment_methods.retrieve(method_id))["card"]
    card.update(last4=last4, exp_month=exp_month, exp_year=exp_year)
    stripe_client().v1.payment_methods.update(method_id, params={"card": card})  # type: ignore[typeddict-item]
    current = as_dict(stripe_client().v1.payment_methods.retrieve(method_id))["card"]
    assert (current["last4"], int(current["exp_month"]), int(current["exp_year"])) == (
        last4,
        exp_month,
        exp_year,
    )


def automatically_updated_event(method_id: str, previous: dict) -> dict:
    """The captured ``payment_method.automatically_updated`` with our card in it."""
    current = as_dict(stripe_client().v1.payment_methods.retrieve(method_id))
    event = fixture("payment_method.automatically_updated.json")
    method = event["data"]["object"]
    method["card"].update({k: v for k, v in current["card"].items() if k in method["card"]})
    method.update(id=current["id"], customer=current["customer"], created=current["created"], livemode=False)
    event["data"]["previous_attributes"] = {"card": previous}
    event.update(id=new_event_id(), created=int(time.time()))
    return event


@pytest.fixture
def card_on_file(paid_business) -> PaymentMethod:
    """Business paid with Visa 4242, expiring 12/2039, an expiry notice already sent."""
    workspace = paid_business.invoice.workspace
    method = PaymentMethod.objects.get(workspace=workspace, is_default=True)
    PaymentMethod.objects.filter(pk=method.pk).update(expiry_notice_sent_at=paid_business.invoice.issued_at)
    return method


def test_a_card_updater_change_replaces_the_stored_last4_and_expiry(deliver, card_on_file):
    workspace = card_on_file.workspace
    reissue_in_stripe(card_on_file.card_token, last4="4444", exp_month=3, exp_year=2031)
    event = automatically_updated_event(
        card_on_file.card_token, {"exp_month": 12, "exp_year": 2039, "last4": "4242"}
    )

    deliver(event)

    assert get_gateway().default_payment_method(workspace) == CardInfo("Visa", "4444", 3, 2031)
    card_on_file.refresh_from_db()
    assert (card_on_file.card_token, card_on_file.is_default, card_on_file.expiry_notice_sent_at) == (
        card_on_file.card_token,
        True,
        None,
    )
    assert list(StripeEvent.objects.values_list("type", "state")) == [
        ("payment_method.automatically_updated", "processed")
    ]


@pytest.mark.parametrize("event_type", ["payment_method.updated", "payment_method.attached"])
def test_an_updated_card_follows_what_stripe_says_now_not_what_the_event_says(
    deliver, card_on_file, event_type
):
    event = stored_card_event(event_type, card_on_file.workspace)  # sent at 12/2039
    reissue_in_stripe(card_on_file.card_token, last4="4242", exp_month=8, exp_year=2033)

    deliver(event)

    assert event["data"]["object"]["card"]["exp_year"] == 2039
    assert get_gateway().default_payment_method(card_on_file.workspace) == CardInfo("Visa", "4242", 8, 2033)


def test_the_next_charge_after_an_update_uses_the_same_card(deliver, card_on_file):
    reissue_in_stripe(card_on_file.card_token, last4="4242", exp_month=1, exp_year=2030)
    deliver(stored_card_event("payment_method.updated", card_on_file.workspace))

    result = get_gateway().charge(card_on_file.workspace, 1_000, "EUR", "test:after-update", "Test", {})

    assert result.status == "succeeded"
    intent = stripe_client().v1.payment_intents.retrieve(result.reference)
    assert intent.payment_method == card_on_file.card_token


def test_a_card_detached_in_stripe_is_no_longer_on_file(deliver, card_on_file):
    workspace = card_on_file.workspace
    stripe_client().v1.payment_methods.detach(card_on_file.card_token)

    deliver(stored_card_event("payment_method.detached", workspace))

    assert not PaymentMethod.objects.filter(workspace=workspace).exists()
    assert get_gateway().default_payment_method(workspace) is None
    assert list(StripeEvent.objects.values_list("state", "note")) == [("processed", "")]
    # Nothing can be charged without a card: the next charge says so instead of calling Stripe.
    result = get_gateway().charge(workspace, 1_000, "EUR", "test:after-detach", "Test", {})
    assert (result.status, result.reference, result.failure_message) == (
        "failed",
        "",
        "Aucune méthode de paiement enregistrée.",
    )


def test_a_detached_event_about_a_card_stripe_still_has_attached_keeps_it(deliver, card_on_file):
    event = stored_card_event("payment_method.detached", card_on_file.workspace)
    event["data"]["object"]["customer"] = None  # what a detach sends; Stripe says otherwise now

    deliver(event)

    assert PaymentMethod.objects.filter(pk=card_on_file.pk).exists()
    assert list(StripeEvent.objects.values_list("state", "note")) == [("ignored", "still attached")]


def test_a_card_setup_of_one_of_our_customers_is_acknowledged_and_saves_nothing_more(deliver, card_on_file):
    customer = StripeGateway().ensure_customer(card_on_file.workspace)
    setup = stripe_client().v1.setup_intents.create(params={"customer": customer, "usage": "off_session"})
    cards = list(PaymentMethod.objects.values_list("id", "card_token", "is_default"))

    deliver(build_event("setup_intent.succeeded", {**as_dict(setup), "status": "succeeded"}))

    assert list(StripeEvent.objects.values_list("state", "note")) == [("processed", "")]
    assert list(PaymentMethod.objects.values_list("id", "card_token", "is_default")) == cards
