"""The local gateway: an offline stand-in for Stripe (docs/rules/payments.md#local-gateway).

Cards are entered on our own "secure payment page" (``/pay/setup/<signed token>/``)
and only Stripe's test card numbers are accepted; the card's number is never stored,
only its brand, last 4, expiry and the outcome its number stands for: 4242 4242 4242
4242 succeeds, 4000 0000 0000 0002 is declined, 4000 0000 0000 9995 is declined for
insufficient funds. Charges are rows of :class:`~subscriptions.models.LocalCharge`,
one per idempotency key, so dunning can be exercised end to end without a network.
"""

from __future__ import annotations

import secrets
from datetime import date

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from gateways.base import CardInfo, ChargeResult, PaymentError, RefundResult
from subscriptions.models import CardOutcome, LocalCharge, PaymentMethod
from workspaces.models import Workspace

SETUP_TOKEN_SALT = "subscriptions.pay_setup"
#: The secure payment page link is valid for one hour.
SETUP_TOKEN_MAX_AGE = 3600

#: Stripe's test card numbers the local page accepts → the outcome of charging them.
TEST_CARDS: dict[str, CardOutcome] = {
    "4242424242424242": CardOutcome.SUCCEEDS,  # Visa
    "4000056655665556": CardOutcome.SUCCEEDS,  # Visa (debit)
    "5555555555554444": CardOutcome.SUCCEEDS,  # Mastercard
    "2223003122003222": CardOutcome.SUCCEEDS,  # Mastercard (2-series)
    "5200828282828210": CardOutcome.SUCCEEDS,  # Mastercard (debit)
    "378282246310005": CardOutcome.SUCCEEDS,  # American Express
    "371449635398431": CardOutcome.SUCCEEDS,  # American Express
    "4000000000000002": CardOutcome.DECLINED,  # generic decline
    "4000000000009995": CardOutcome.INSUFFICIENT_FUNDS,
}

DECLINE_MESSAGES = {
    CardOutcome.DECLINED: _("The card was declined."),
    CardOutcome.INSUFFICIENT_FUNDS: _("The card was declined: insufficient funds."),
}
NO_CARD_MESSAGE = _("No payment method on file.")
EXPIRED_CARD_MESSAGE = _("The card has expired.")


def luhn_valid(number: str) -> bool:
    """The Luhn checksum every card number satisfies."""
    if not (number.isascii() and number.isdigit()):
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith(("34", "37")):
        return "Amex"
    if number.startswith("4"):
        return "Visa"
    prefix = int(number[:4]) if len(number) >= 4 else 0
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= prefix <= 2720:
        return "Mastercard"
    return "Card"


def card_expired(exp_month: int, exp_year: int, today: date) -> bool:
    """A card is valid through the last day of its expiry month."""
    return (exp_year, exp_month) < (today.year, today.month)


def make_setup_token(workspace: Workspace, return_url: str) -> str:
    return signing.dumps({"w": str(workspace.pk), "r": return_url}, salt=SETUP_TOKEN_SALT, compress=True)


def read_setup_token(token: str) -> tuple[str, str]:
    """``(workspace id, return url)``; raises ``signing.BadSignature`` (or its
    ``SignatureExpired`` subclass after one hour)."""
    data = signing.loads(token, salt=SETUP_TOKEN_SALT, max_age=SETUP_TOKEN_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("w"), str) or not isinstance(data.get("r"), str):
        raise signing.BadSignature("malformed setup token")
    return data["w"], data["r"]


def _message(text: object) -> str:
    # Stored on the charge and the invoice, and emailed: in the default language.
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


class LocalGateway:
    name = "local"

    def ensure_customer(self, workspace: Workspace) -> str:
        return f"local_cus_{workspace.pk.hex}"

    def setup_url(self, workspace: Workspace, return_url: str) -> str:
        return reverse("payment_setup", kwargs={"token": make_setup_token(workspace, return_url)})

    def default_payment_method(self, workspace: Workspace) -> CardInfo | None:
        method = PaymentMethod.objects.filter(workspace=workspace, is_default=True).first()
        if method is None:
            return None
        return CardInfo(
            brand=method.brand, last4=method.last4, exp_month=method.exp_month, exp_year=method.exp_year
        )

    def charge(
        self, workspace: Workspace, amount_cents: int, currency: str, idempotency_key: str, description: str
    ) -> ChargeResult:
        if amount_cents <= 0:
            raise PaymentError(_("Nothing to charge."))
        existing = LocalCharge.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _result(existing)
        method = PaymentMethod.objects.filter(workspace=workspace, is_default=True).first()
        failure = ""
        if method is None:
            failure = _message(NO_CARD_MESSAGE)
        elif card_expired(method.exp_month, method.exp_year, timezone.now().date()):
            failure = _message(EXPIRED_CARD_MESSAGE)
        elif method.card_token in DECLINE_MESSAGES:
            failure = _message(DECLINE_MESSAGES[CardOutcome(method.card_token)])
        try:
            with transaction.atomic():
                charge = LocalCharge.objects.create(
                    workspace=workspace,
                    idempotency_key=idempotency_key,
                    reference=f"lch_{secrets.token_hex(12)}",
                    amount_cents=amount_cents,
                    currency=currency,
                    description=description[:200],
                    succeeded=not failure,
                    failure_message=failure,
                )
        except IntegrityError:
            # The same key replayed concurrently: the first charge is the answer.
            charge = LocalCharge.objects.get(idempotency_key=idempotency_key)
        return _result(charge)

    def refund(self, reference: str, amount_cents: int) -> RefundResult:
        with transaction.atomic():
            charge = (
                LocalCharge.objects.select_for_update().filter(reference=reference, succeeded=True).first()
            )
            if (
                charge is None
                or amount_cents <= 0
                or charge.refunded_cents + amount_cents > charge.amount_cents
            ):
                raise PaymentError(_("This payment cannot be refunded for that amount."))
            charge.refunded_cents += amount_cents
            charge.save(update_fields=["refunded_cents"])
        return RefundResult(
            succeeded=True, reference=f"lre_{secrets.token_hex(12)}", amount_cents=amount_cents
        )


def _result(charge: LocalCharge) -> ChargeResult:
    return ChargeResult(
        succeeded=charge.succeeded, reference=charge.reference, failure_message=charge.failure_message
    )
