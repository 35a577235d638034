"""Cards changed on Stripe's side: a card updater's new expiry, a card detached in the
dashboard. Our stored card follows what Stripe says now (read again)."""

from __future__ import annotations

from typing import Any

from gateways.stripe.client import call, client
from gateways.stripe.gateway import BRANDS
from gateways.stripe.models import StripeCustomer
from subscriptions.models import PaymentMethod


def setup_succeeded(event_object: dict[str, Any]) -> str | None:
    """A card confirmed in the browser is saved by the card page itself, which reads the
    SetupIntent back before saving; the event only confirms a customer of ours."""
    if not StripeCustomer.objects.filter(customer_id=event_object.get("customer") or "").exists():
        return "not one of our customers"
    return None


def method_changed(event_object: dict[str, Any]) -> str | None:
    method_id = str(event_object.get("id", ""))
    stored = PaymentMethod.objects.filter(card_token=method_id)
    if not method_id or not stored.exists():
        return "not one of our cards"
    method = call(lambda: client().v1.payment_methods.retrieve(method_id))
    card = method.card
    if card is None:
        return "not a card"
    stored.update(
        brand=BRANDS.get(card.brand, str(card.brand).title()),
        last4=card.last4,
        exp_month=int(card.exp_month),
        exp_year=int(card.exp_year),
        expiry_notice_sent_at=None,
    )
    return None


def method_detached(event_object: dict[str, Any]) -> str | None:
    """Detached in Stripe: it can no longer be charged, so it is no longer on file."""
    method_id = str(event_object.get("id", ""))
    if not method_id or not PaymentMethod.objects.filter(card_token=method_id).exists():
        return "not one of our cards"
    method = call(lambda: client().v1.payment_methods.retrieve(method_id))
    if method.customer:
        return "still attached"
    PaymentMethod.objects.filter(card_token=method_id).delete()
    return None
