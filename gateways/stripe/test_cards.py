"""Saving one of Stripe's test cards without a browser: the demo data and the test suite
save cards through Stripe exactly as the card page does (a SetupIntent confirmed with the
card, read back), only confirmed by the server instead of Stripe.js.

Against the offline Stripe the card is created from its number; Stripe itself takes only
its named test cards from a server, so there a known number is sent as that name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from billing.services.collection import CardSaved, card_save
from gateways.stripe.client import call, client
from gateways.stripe.gateway import StripeGateway
from workspaces.models import Membership, Workspace

#: Stripe's test cards (https://docs.stripe.com/testing) by number → their named token.
NAMED_TEST_CARDS = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "4000000000000341": "pm_card_chargeCustomerFail",
    "4000002760003184": "pm_card_authenticationRequired",
}


def _test_method(number: str, exp_month: int, exp_year: int) -> str:
    if not settings.STRIPE_API_BASE and number in NAMED_TEST_CARDS:
        return NAMED_TEST_CARDS[number]
    params: Any = {
        "type": "card",
        "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": "123"},
    }
    return str(call(lambda: client().v1.payment_methods.create(params=params)).id)


def save_test_card(
    *, workspace: Workspace, actor: Membership, number: str, exp_month: int, exp_year: int, now: datetime
) -> CardSaved:
    """Save a test card as the workspace's default payment method through Stripe (then
    every unpaid invoice is charged with it). A card Stripe refuses raises
    :class:`~gateways.base.CardDeclined`, as on the card page."""
    gateway = StripeGateway()
    digits = "".join(ch for ch in number if ch.isdigit())
    method = _test_method(digits, exp_month, exp_year)
    customer = gateway.ensure_customer(workspace)
    intent = call(
        lambda: client().v1.setup_intents.create(
            params={"customer": customer, "usage": "off_session", "payment_method_types": ["card"]}
        )
    )
    confirmed = call(lambda: client().v1.setup_intents.confirm(intent.id, params={"payment_method": method}))
    if confirmed.status == "requires_action" and settings.STRIPE_API_BASE:
        # The offline Stripe's 3-D Secure step, completed as Stripe.js does once the payer
        # has authenticated.
        call(lambda: client().v1.setup_intents.confirm(intent.id))
    saved = gateway.finish_card_setup(workspace, intent.id)
    return card_save(workspace=workspace, actor=actor, card=saved.card, token=saved.token, now=now)
