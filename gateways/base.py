"""The payment gateway interface (docs/rules/payments.md).

Narrow on purpose: a customer, a hosted page to save a card, the default card, a
charge and a refund. Implementations return these dataclasses, never a provider's
objects, and turn provider errors into :class:`PaymentError` / :class:`CardDeclined`.
Charges are made outside database transactions, each with an idempotency key derived
from our ids (``invoice:<id>:attempt:<n>``): replaying a key returns the first result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from workspaces.errors import DomainError
from workspaces.models import Workspace


class PaymentError(DomainError):
    """The payment provider could not be reached or refused the request (retry later)."""

    code = "payment_error"
    message = _("The payment could not be processed. Try again in a few minutes.")


class CardDeclined(PaymentError):
    code = "card_declined"
    message = _("The card was declined.")


@dataclass(frozen=True)
class CardInfo:
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str
    failure_message: str = ""


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str
    amount_cents: int


class PaymentGateway(Protocol):
    name: str

    def ensure_customer(self, workspace: Workspace) -> str:
        """The provider's customer id of the workspace, created on first use."""
        ...

    def setup_url(self, workspace: Workspace, return_url: str) -> str:
        """The secure payment page where an admin saves a card, then returns to ``return_url``."""
        ...

    def default_payment_method(self, workspace: Workspace) -> CardInfo | None: ...

    def charge(
        self, workspace: Workspace, amount_cents: int, currency: str, idempotency_key: str, description: str
    ) -> ChargeResult:
        """Charge the default card off-session. A decline is a result, not an exception;
        :class:`PaymentError` means the outcome is unknown and the call may be retried
        with the same key."""
        ...

    def refund(self, reference: str, amount_cents: int) -> RefundResult: ...


def get_gateway() -> PaymentGateway:
    """The gateway ``settings.PAYMENTS_GATEWAY`` names (the settings refuse an unknown one at
    start). Loaded by its dotted path so that no generic module imports a specific gateway."""
    path = settings.PAYMENTS_GATEWAY_CLASSES.get(settings.PAYMENTS_GATEWAY)
    if path is None:
        raise ImproperlyConfigured(f"Payment gateway {settings.PAYMENTS_GATEWAY!r} is not available.")
    gateway_class: type[PaymentGateway] = import_string(path)
    return gateway_class()
