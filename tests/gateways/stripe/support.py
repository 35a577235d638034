"""Driving the test run's offline Stripe as a payer's browser and bank would, and reading
back what it holds.

The card page's browser confirms a SetupIntent with Stripe.js, and the bank's 3-D Secure
page completes a PaymentIntent; here the test does both server-side, through the same
Stripe API (a real ``stripe.StripeClient``) or localstripe's ``_authenticate`` endpoint.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from io import StringIO
from typing import Any

import pytest
import requests
import stripe
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.utils import translation

from billing.services.collection import CardSaved, card_save
from gateways.stripe import client as stripe_client
from gateways.stripe.client import client
from gateways.stripe.gateway import StripeGateway
from invoices.models import Charge, Invoice
from workspaces.models import Membership, Workspace

VISA_OK = "4242424242424242"
#: Refused when saved: the SetupIntent's confirmation answers 402 card_declined.
VISA_REFUSED = "4000000000000002"
#: Saved, then every charge declined.
VISA_DECLINED = "4000000000000341"
#: Saving it and every off-session charge ask the payer to authenticate (3-D Secure).
VISA_3DS = "4000002760003184"


def card_method(number: str, exp_month: int = 12, exp_year: int = 2039) -> str:
    """A PaymentMethod for a test card, as Stripe.js creates it from the card element."""
    method = client().v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": "123"},
        }
    )
    return str(method.id)


def confirmed_setup_intent(customer: str, number: str = VISA_OK, **expiry: int) -> str:
    """A SetupIntent of ``customer`` confirmed with a test card, as ``confirmCardSetup`` leaves
    it (the bank's check passed for a 3-D Secure card): its id, what the page receives."""
    intent = client().v1.setup_intents.create(
        params={"customer": customer, "usage": "off_session", "payment_method_types": ["card"]}
    )
    confirmed = client().v1.setup_intents.confirm(
        intent.id, params={"payment_method": card_method(number, **expiry)}
    )
    if confirmed.status == "requires_action":
        # The payer passed the bank's check: the offline Stripe completes it on a new confirm.
        confirmed = client().v1.setup_intents.confirm(intent.id)
    assert confirmed.status == "succeeded"
    return str(intent.id)


def customer_of(workspace: Workspace) -> str:
    return StripeGateway().ensure_customer(workspace)


def save_card(workspace: Workspace, actor: Membership, number: str, *, now: datetime) -> CardSaved:
    """Save a test card as the card page does after Stripe.js confirmed it (3-D Secure cards
    included): the SetupIntent read back, then every unpaid invoice charged with it."""
    saved = StripeGateway().finish_card_setup(
        workspace, confirmed_setup_intent(customer_of(workspace), number)
    )
    return card_save(workspace=workspace, actor=actor, card=saved.card, token=saved.token, now=now)


def authenticate(reference: str, *, success: bool) -> dict[str, Any]:
    """The payer answers the bank's 3-D Secure check of a PaymentIntent (what
    ``confirmCardPayment`` does in the browser)."""
    intent = client().v1.payment_intents.retrieve(reference)
    response = requests.post(
        f"{settings.STRIPE_API_BASE}/v1/payment_intents/{reference}/_authenticate",
        data={"client_secret": intent.client_secret, "success": "true" if success else "false"},
        headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def intent(reference: str) -> Any:
    return client().v1.payment_intents.retrieve(reference)


def intents_of(workspace: Workspace) -> list[Any]:
    """Every PaymentIntent Stripe holds for the workspace's customer, by creation second
    (the offline Stripe lists them all: filtered here)."""
    customer = customer_of(workspace)
    every = client().v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    return sorted((i for i in every if i.customer == customer), key=lambda i: (i.created, i.id))


def intents_for(invoice: Invoice) -> list[Any]:
    """The PaymentIntents made for one invoice (its id is in their metadata)."""
    return [i for i in intents_of(invoice.workspace) if i.metadata.get("invoice_id") == str(invoice.pk)]


def charges_of(invoice: Invoice) -> list[tuple[int, str]]:
    return list(Charge.objects.filter(invoice=invoice).order_by("attempt").values_list("attempt", "status"))


def waiting_charge(invoice: Invoice) -> Charge:
    return Charge.objects.get(invoice=invoice, status="requires_action")


def page_text(response: Any) -> str:
    """A page's text, tags dropped and spaces collapsed (no-break spaces included)."""
    html = response.content.decode()
    text = re.sub(r"<[^>]+>", " ", html).replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text).replace("&#x27;", "'").replace("&quot;", '"')


def client_secret_on(response: Any) -> str:
    match = re.search(r'data-client-secret="([^"]*)"', response.content.decode())
    assert match is not None, "no client secret on the page"
    return match.group(1)


def tick(moment: datetime) -> None:
    """``manage.py billing_tick`` at ``moment``: the sweeps, charges inline, as cron runs them."""
    with time_machine.travel(moment, tick=False):
        call_command("billing_tick", "--at", moment.isoformat(), stdout=StringIO())


def flashed(response: Any) -> list[str]:
    """The messages the request left for the next page."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def french(message: str) -> str:
    """``message`` as a French reader sees it, from the catalogs: the tests name the
    message shown, not its current wording (test_french.py checks that every message of
    the payment code has its French translation)."""
    with translation.override("fr"):
        return translation.gettext(message)


@contextlib.contextmanager
def payer_emails_sent() -> Iterator[None]:
    """Run what billing.services.payments queued for after the commit (the email asking
    the payer to authenticate): the test's transaction never commits. The invoices' PDF
    renders and receipts queued meanwhile are left out (slow, and not about payments)."""
    from django.db import connection

    start = len(connection.run_on_commit)
    try:
        yield
    finally:
        queued = connection.run_on_commit[start:]
        del connection.run_on_commit[start:]
    for entry in queued:
        callback = entry[1]
        if getattr(callback, "__module__", "") == "billing.services.payments":
            callback()


#: An address where nothing listens.
UNREACHABLE = "http://127.0.0.1:9"


class LosingAnswers(stripe.RequestsClient):
    """An HTTP client whose next charges reach Stripe, which processes them, while the
    answer never comes back: the connection drops on the way."""

    def __init__(self) -> None:
        super().__init__()
        self.to_lose = 0
        self.lost: list[str] = []

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> Any:
        answer = super().request(method, url, headers, post_data)
        if self.to_lose and method.lower() == "post" and url.endswith("/v1/payment_intents"):
            self.to_lose -= 1
            self.lost.append(dict(headers or {}).get("Idempotency-Key", ""))
            raise stripe.APIConnectionError("Connection reset by peer (the answer was lost).")
        return answer


@dataclass
class Network:
    """Stripe as the application sees it: ``down()``, ``up()``, or ``lose_answers(n)``."""

    settings: Any
    monkeypatch: pytest.MonkeyPatch
    http: LosingAnswers = field(default_factory=LosingAnswers)

    def down(self) -> None:
        self.settings.STRIPE_API_BASE = UNREACHABLE

    def up(self) -> None:
        self.settings.STRIPE_API_BASE = self.base

    def lose_answers(self, count: int = 1) -> None:
        self.http.to_lose = count

    def __post_init__(self) -> None:
        self.base = settings.STRIPE_API_BASE
        self.monkeypatch.setattr(
            stripe_client,
            "_clients",
            {
                (settings.STRIPE_SECRET_KEY, self.base): stripe.StripeClient(
                    settings.STRIPE_SECRET_KEY,
                    base_addresses={"api": self.base},
                    stripe_version=settings.STRIPE_API_VERSION,
                    max_network_retries=0,
                    http_client=self.http,
                )
            },
        )
