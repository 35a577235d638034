"""Payment gateways: ``get_gateway()`` picks the one ``settings.PAYMENTS_GATEWAY`` names."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from subscriptions.gateways.base import (
    CardDeclined,
    CardInfo,
    ChargeResult,
    PaymentError,
    PaymentGateway,
    RefundResult,
)

__all__ = [
    "CardDeclined",
    "CardInfo",
    "ChargeResult",
    "PaymentError",
    "PaymentGateway",
    "RefundResult",
    "get_gateway",
]


def get_gateway() -> PaymentGateway:
    name = settings.PAYMENTS_GATEWAY
    if name == "local":
        from subscriptions.gateways.local import LocalGateway

        return LocalGateway()
    # The Stripe implementation is a later issue (SPEC.md "Payment gateway").
    raise ImproperlyConfigured(f"Payment gateway {name!r} is not available yet; use PAYMENTS_GATEWAY=local.")
