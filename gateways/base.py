"""The payment gateway interface (docs/rules/payments.md).

Narrow on purpose: a customer, a card saved through the provider's page, the default
card, a charge (and reading or cancelling it again), the authentication a charge may
ask for, and a refund. Implementations return these dataclasses, never a provider's
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


class ChargeStatus:
    """Where a charge stands. ``succeeded``, ``failed`` and ``canceled`` are final;
    ``requires_action`` waits for the payer to authenticate (3-D Secure), ``processing``
    for the provider."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    CANCELED = "canceled"

    FINAL = frozenset({SUCCEEDED, FAILED, CANCELED})


@dataclass(frozen=True)
class ChargeResult:
    status: str
    #: The provider's id of the charge (Stripe: the PaymentIntent's id).
    reference: str
    failure_message: str = ""
    amount_cents: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status == ChargeStatus.SUCCEEDED

    @property
    def requires_action(self) -> bool:
        return self.status == ChargeStatus.REQUIRES_ACTION


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str
    amount_cents: int
    #: The charge refunded (Stripe: the PaymentIntent's id).
    charge_reference: str = ""


@dataclass(frozen=True)
class SavedCard:
    """A card the provider confirmed for off-session charges."""

    card: CardInfo
    #: The provider's id of the card (Stripe: the PaymentMethod's id).
    token: str


class PaymentGateway(Protocol):
    name: str

    def ensure_customer(self, workspace: Workspace) -> str:
        """The provider's customer id of the workspace, created on first use."""
        ...

    def setup_url(self, workspace: Workspace, return_url: str) -> str:
        """Our page where an admin saves a card, then returns to ``return_url``."""
        ...

    def start_card_setup(self, workspace: Workspace) -> str:
        """A secret the browser uses to confirm a new card with the provider's script."""
        ...

    def finish_card_setup(self, workspace: Workspace, setup_reference: str) -> SavedCard:
        """The card the browser confirmed; :class:`CardDeclined` when it was not."""
        ...

    def default_payment_method(self, workspace: Workspace) -> CardInfo | None: ...

    def charge(
        self,
        workspace: Workspace,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        description: str,
        metadata: dict[str, str],
    ) -> ChargeResult:
        """Charge the default card off-session. A decline, or a demand for authentication,
        is a result, not an exception; :class:`PaymentError` means the outcome is unknown
        and the call may be retried with the same key."""
        ...

    def charge_status(self, reference: str) -> ChargeResult:
        """The charge as the provider has it now."""
        ...

    def cancel_charge(self, reference: str) -> ChargeResult:
        """Cancel a charge still waiting (for authentication); one that went through in
        the meantime comes back succeeded."""
        ...

    def authentication_secret(self, reference: str) -> str:
        """What the payer's browser needs to complete a charge's authentication."""
        ...

    def refund(self, reference: str, amount_cents: int, idempotency_key: str) -> RefundResult: ...


def get_gateway() -> PaymentGateway:
    """The gateway ``settings.PAYMENTS_GATEWAY`` names (the settings refuse an unknown one at
    start). Loaded by its dotted path so that no generic module imports a specific gateway."""
    path = settings.PAYMENTS_GATEWAY_CLASSES.get(settings.PAYMENTS_GATEWAY)
    if path is None:
        raise ImproperlyConfigured(f"Payment gateway {settings.PAYMENTS_GATEWAY!r} is not available.")
    gateway_class: type[PaymentGateway] = import_string(path)
    return gateway_class()
