"""Signed Stripe events for ``/webhooks/stripe/``, built on real Stripe payloads
(``fixtures/``) and naming objects the test made in the offline Stripe.

Stripe signs a delivery with ``Stripe-Signature: t=<unix seconds>,v1=<hex>``, the hex
being HMAC-SHA256 of ``f"{t}.{body}"`` keyed with the endpoint's ``whsec_…`` secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client

from billing.services.collection import card_save
from gateways import base as gateways_base
from gateways.base import PaymentError
from gateways.stripe import events
from gateways.stripe.client import client as stripe_client
from gateways.stripe.gateway import StripeGateway
from subscriptions.models import PaymentMethod
from tests.factories import owner_of
from tests.factories.subscriptions import VISA_3DS
from workspaces.models import Workspace

FIXTURES = Path(__file__).parent / "fixtures"
WEBHOOK_PATH = "/webhooks/stripe/"


@cache
def _fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of a stored Stripe payload (see fixtures/README.md)."""
    return json.loads(_fixture_text(name))


def new_event_id() -> str:
    return f"evt_{secrets.token_hex(12)}"


def as_dict(stripe_object: Any) -> dict[str, Any]:
    """A Stripe object as the plain JSON Stripe would send."""
    return json.loads(str(stripe_object))


# --- signing and posting ------------------------------------------------------------------


def signature(body: bytes, secret: str | None = None, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends with ``body``."""
    secret = settings.STRIPE_WEBHOOK_SECRETS[0] if secret is None else secret
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def body_of(event: dict[str, Any]) -> bytes:
    # Stripe sends its events pretty-printed.
    return json.dumps(event, indent=2).encode()


def post_body(http: Client, body: bytes, header: str | None) -> Any:
    """POST ``body`` to the webhook endpoint with that ``Stripe-Signature`` (none if None)."""
    headers = {} if header is None else {"Stripe-Signature": header}
    return http.post(WEBHOOK_PATH, data=body, content_type="application/json", headers=headers)


def post_event(
    http: Client, event: dict[str, Any], *, secret: str | None = None, timestamp: int | None = None
) -> Any:
    """Deliver ``event`` signed as Stripe does (by default with the first current secret, now)."""
    body = body_of(event)
    return post_body(http, body, signature(body, secret, timestamp))


# --- events ---------------------------------------------------------------------------------


def build_event(event_type: str, data_object: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    """An event in Stripe's envelope (its sample Event), about ``data_object``."""
    event = fixture("objects/event.json")
    event.update(
        id=new_event_id(),
        type=event_type,
        created=int(time.time()),
        api_version=settings.STRIPE_API_VERSION,
        pending_webhooks=1,
        request={"id": f"req_{secrets.token_hex(7)}", "idempotency_key": None},
        data={"object": data_object},
    )
    event.update(envelope)
    return event


#: The fields of a PaymentIntent a ``payment_intent.*`` event carries from the real intent.
INTENT_FIELDS = (
    "id",
    "amount",
    "currency",
    "customer",
    "payment_method",
    "metadata",
    "status",
    "client_secret",
    "next_action",
    "last_payment_error",
    "capture_method",
)


def intent_event(event_type: str, intent_id: str, **stale: Any) -> dict[str, Any]:
    """A ``payment_intent.*`` event about a real intent of the offline Stripe: Stripe's
    sample PaymentIntent with the intent's current fields, then ``stale`` ones (what the
    intent was when an older event was sent)."""
    current = as_dict(stripe_client().v1.payment_intents.retrieve(intent_id))
    intent = fixture("objects/payment_intent.json")
    intent.update({key: current.get(key) for key in INTENT_FIELDS})
    latest = current.get("latest_charge")
    intent.update(
        created=current["created"],
        latest_charge=latest["id"] if isinstance(latest, dict) else latest,
        amount_received=current["amount"] if current["status"] == "succeeded" else 0,
        canceled_at=None,
        automatic_payment_methods=None,
        payment_method_configuration_details=None,
        processing=None,
        transfer_data=None,
    )
    intent.update(stale)
    return build_event(event_type, intent)


def requires_action_event(intent_id: str) -> dict[str, Any]:
    """The ``payment_intent.requires_action`` Stripe sent when the bank asked to confirm."""
    return intent_event(
        "payment_intent.requires_action",
        intent_id,
        status="requires_action",
        latest_charge=None,
        amount_received=0,
        next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}},
    )


def payment_failed_event(intent_id: str) -> dict[str, Any]:
    """A ``payment_intent.payment_failed`` (insufficient funds) about that intent."""
    return intent_event(
        "payment_intent.payment_failed",
        intent_id,
        status="requires_payment_method",
        latest_charge=None,
        amount_received=0,
        next_action=None,
        last_payment_error={
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
        },
    )


def refunded_event(charge_id: str) -> dict[str, Any]:
    """``charge.refunded`` about a real charge: the captured event with the charge's
    current amounts and refunds."""
    charge = as_dict(stripe_client().v1.charges.retrieve(charge_id))
    event = fixture("charge.refunded.json")
    sample = event["data"]["object"]
    refunds = charge.get("refunds") or {"data": []}
    sample.update(
        id=charge["id"],
        amount=charge["amount"],
        amount_captured=charge["amount"],
        amount_refunded=charge["amount_refunded"],
        refunded=charge["refunded"],
        currency=charge["currency"],
        customer=charge["customer"],
        payment_intent=charge["payment_intent"],
        payment_method=charge["payment_method"],
        created=charge["created"],
        livemode=False,
        refunds={
            "object": "list",
            "data": refunds["data"],
            "has_more": False,
            "total_count": len(refunds["data"]),
            "url": f"/v1/charges/{charge['id']}/refunds",
        },
    )
    event.update(
        id=new_event_id(), created=int(time.time()), api_version=settings.STRIPE_API_VERSION, livemode=False
    )
    event["data"]["previous_attributes"] = {"amount_refunded": 0, "refunded": False}
    return event


def payment_method_event(event_type: str, method_id: str) -> dict[str, Any]:
    """``payment_method.updated`` / ``.detached`` about a real PaymentMethod: Stripe's sample
    PaymentMethod with its current card and customer."""
    current = as_dict(stripe_client().v1.payment_methods.retrieve(method_id))
    method = fixture("objects/payment_method.json")
    method["card"].update({k: v for k, v in current["card"].items() if k in method["card"]})
    method.update(id=current["id"], customer=current["customer"], created=current["created"])
    return build_event(event_type, method)


# --- the offline Stripe ---------------------------------------------------------------------


def latest_charge_of(intent_id: str) -> str:
    latest = as_dict(stripe_client().v1.payment_intents.retrieve(intent_id))["latest_charge"]
    return str(latest["id"] if isinstance(latest, dict) else latest)


def authenticate(intent_id: str) -> None:
    """The payer confirms the payment with their bank, as the offline Stripe's Stripe.js does
    on the confirmation page: the intent then goes through."""
    intent = stripe_client().v1.payment_intents.retrieve(intent_id)
    stripe_client().raw_request(
        "post",
        f"/v1/payment_intents/{intent_id}/_authenticate",
        client_secret=intent.client_secret,
        success="true",
    )
    assert stripe_client().v1.payment_intents.retrieve(intent_id).status == "succeeded"


def save_card_asking_authentication(workspace: Workspace, *, now: datetime) -> PaymentMethod:
    """Save Stripe's 4000 0027 6000 3184 as the default card: the owner authenticates it on
    the card page (the SetupIntent confirmed a second time, as Stripe.js does after the
    bank's check); every off-session charge of it then asks for authentication again."""
    gateway = StripeGateway()
    params: Any = {
        "type": "card",
        "card": {"number": VISA_3DS, "exp_month": 12, "exp_year": 2039, "cvc": "123"},
    }
    method = stripe_client().v1.payment_methods.create(params=params)
    setup = stripe_client().v1.setup_intents.create(
        params={"customer": gateway.ensure_customer(workspace), "usage": "off_session"}
    )
    assert stripe_client().v1.setup_intents.confirm(
        setup.id, params={"payment_method": method.id}
    ).status == ("requires_action")
    assert stripe_client().v1.setup_intents.confirm(setup.id).status == "succeeded"
    saved = gateway.finish_card_setup(workspace, setup.id)
    owner = owner_of(workspace)
    return card_save(workspace=workspace, actor=owner, card=saved.card, token=saved.token, now=now).method


def stored_card_event(event_type: str, workspace: Workspace) -> dict[str, Any]:
    token = PaymentMethod.objects.get(workspace=workspace, is_default=True).card_token
    return payment_method_event(event_type, token)


class StripeOutage:
    """Stripe cannot be reached by the event handlers for their next ``failures`` calls
    (-1: until :meth:`over`)."""

    def __init__(self, monkeypatch: Any, failures: int = -1) -> None:
        self.failures = failures
        self.calls = 0

        def get_gateway() -> Any:
            self.calls += 1
            if self.failures < 0 or self.calls <= self.failures:
                raise PaymentError()
            return gateways_base.get_gateway()

        monkeypatch.setattr(events, "get_gateway", get_gateway)

    def over(self) -> None:
        self.failures = self.calls
