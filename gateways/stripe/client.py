"""The one place that builds a Stripe client and turns Stripe's errors into ours.

Only this package imports ``stripe`` (docs/architecture.md). With no live key the client
talks to the embedded offline Stripe at ``STRIPE_API_BASE`` (config.embedded); the code
path is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from gateways.base import CardDeclined, PaymentError

T = TypeVar("T")

#: Network retries are the caller's (a task retried with the same idempotency key).
_clients: dict[tuple[str, str], stripe.StripeClient] = {}


def client() -> stripe.StripeClient:
    key = (settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)
    if key not in _clients:
        base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
        _clients[key] = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses=base,  # type: ignore[arg-type]
            stripe_version=settings.STRIPE_API_VERSION,
            max_network_retries=0,
        )
    return _clients[key]


def object_id(value: Any) -> str:
    """The id of a Stripe reference, whether Stripe sent it as an id or expanded it into
    the object (``""`` for none)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value.get("id") or "")


def decline_message(code: str | None, decline_code: str | None) -> str:
    """Why a card was refused, in the reader's language (Stripe's codes:
    https://docs.stripe.com/declines/codes)."""
    reason = decline_code or code or ""
    messages = {
        "insufficient_funds": _("The card was declined: insufficient funds."),
        "expired_card": _("The card has expired."),
        "incorrect_cvc": _("The card's security code is incorrect."),
        "incorrect_number": _("The card number is incorrect."),
        "lost_card": _("The card was declined: reported lost."),
        "stolen_card": _("The card was declined: reported stolen."),
        "processing_error": _("The bank could not process the card. Try again in a few minutes."),
        "authentication_required": _("The bank asks you to confirm this payment."),
        "payment_intent_authentication_failure": _("The payment was not authenticated."),
    }
    return str(messages.get(reason, _("The card was declined.")))


def call(request: Callable[[], T]) -> T:
    """Run one Stripe request; a refusal of the card becomes :class:`CardDeclined`, anything
    else (network, Stripe's servers, our own request) :class:`PaymentError`, whose outcome
    is unknown and may be retried with the same idempotency key."""
    try:
        return request()
    except stripe.CardError as exc:
        error = exc.error
        raise CardDeclined(
            decline_message(getattr(error, "code", None), getattr(error, "decline_code", None))
        ) from exc
    except stripe.StripeError as exc:
        raise PaymentError() from exc
