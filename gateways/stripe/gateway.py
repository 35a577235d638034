"""The Stripe gateway (docs/rules/payments.md#stripe): a Customer per workspace, cards saved
by SetupIntents confirmed in the browser, invoices charged by off-session PaymentIntents,
refunds by Refunds. Returns the gateway interface's dataclasses, never Stripe's objects.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlencode

import stripe
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from domain.cards import expired
from gateways.base import (
    CardDeclined,
    CardInfo,
    ChargeResult,
    ChargeStatus,
    PaymentError,
    RefundResult,
    SavedCard,
)
from gateways.stripe.client import call, client, decline_message, object_id
from gateways.stripe.models import StripeCustomer
from subscriptions.models import PaymentMethod
from workspaces.models import Workspace

BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "Amex", "cartes_bancaires": "CB"}

#: A PaymentIntent's status → where our charge stands.
INTENT_STATUSES = {
    "succeeded": ChargeStatus.SUCCEEDED,
    "requires_action": ChargeStatus.REQUIRES_ACTION,
    "processing": ChargeStatus.PROCESSING,
    "canceled": ChargeStatus.CANCELED,
    # Declined (or its authentication failed): back to asking for a payment method.
    "requires_payment_method": ChargeStatus.FAILED,
    "requires_confirmation": ChargeStatus.PROCESSING,
    "requires_capture": ChargeStatus.PROCESSING,
}


def intent_result(intent: Any) -> ChargeResult:
    status = INTENT_STATUSES.get(intent.status, ChargeStatus.PROCESSING)
    failure = ""
    if status == ChargeStatus.FAILED:
        error = intent.get("last_payment_error") or {}
        failure = decline_message(error.get("code"), error.get("decline_code"))
    elif status == ChargeStatus.CANCELED:
        failure = _("The payment was cancelled.")
    return ChargeResult(
        status=status, reference=intent.id, failure_message=failure, amount_cents=intent.amount
    )


class StripeGateway:
    name = "stripe"

    def ensure_customer(self, workspace: Workspace) -> str:
        known = (
            StripeCustomer.objects.filter(workspace=workspace).values_list("customer_id", flat=True).first()
        )
        if known:
            return known
        customer = call(
            lambda: client().v1.customers.create(
                params={"name": workspace.name[:200], "metadata": {"workspace_id": str(workspace.pk)}},
                options={"idempotency_key": f"customer:{workspace.pk}"},
            )
        )
        # Created concurrently under the same key: the same customer, stored once.
        with contextlib.suppress(IntegrityError), transaction.atomic():
            StripeCustomer.objects.create(workspace=workspace, customer_id=customer.id)
        return StripeCustomer.objects.get(workspace=workspace).customer_id

    def setup_url(self, workspace: Workspace, return_url: str) -> str:
        page = reverse("stripe_card_setup", args=[workspace.pk])
        return f"{page}?{urlencode({'next': return_url})}"

    def start_card_setup(self, workspace: Workspace) -> str:
        customer = self.ensure_customer(workspace)
        intent = call(
            lambda: client().v1.setup_intents.create(
                params={
                    "customer": customer,
                    "usage": "off_session",
                    "payment_method_types": ["card"],
                    "metadata": {"workspace_id": str(workspace.pk)},
                }
            )
        )
        return str(intent.client_secret)

    def finish_card_setup(self, workspace: Workspace, setup_reference: str) -> SavedCard:
        customer = self.ensure_customer(workspace)
        if not setup_reference.startswith("seti_"):
            raise PaymentError(_("This card confirmation is not valid."))
        try:
            intent = client().v1.setup_intents.retrieve(setup_reference)
        except stripe.InvalidRequestError as exc:
            raise PaymentError(_("This card confirmation is not valid.")) from exc
        except stripe.StripeError as exc:
            raise PaymentError() from exc
        if intent.customer != customer:
            raise PaymentError(_("This card confirmation is not valid."))
        if intent.status != "succeeded" or not intent.payment_method:
            error = intent.get("last_setup_error") or {}
            raise CardDeclined(decline_message(error.get("code"), error.get("decline_code")))
        method_id = object_id(intent.payment_method)
        method = call(lambda: client().v1.payment_methods.retrieve(method_id))
        if method.customer != customer:
            # Stripe attaches it when the SetupIntent names the customer; be sure.
            method = call(
                lambda: client().v1.payment_methods.attach(method_id, params={"customer": customer})
            )
        card = method.card
        if card is None:
            raise PaymentError(_("This card confirmation is not valid."))
        return SavedCard(
            card=CardInfo(
                brand=BRANDS.get(card.brand, str(card.brand).title()),
                last4=card.last4,
                exp_month=int(card.exp_month),
                exp_year=int(card.exp_year),
            ),
            token=method.id,
        )

    def default_payment_method(self, workspace: Workspace) -> CardInfo | None:
        method = PaymentMethod.objects.filter(workspace=workspace, is_default=True).first()
        if method is None:
            return None
        return CardInfo(
            brand=method.brand, last4=method.last4, exp_month=method.exp_month, exp_year=method.exp_year
        )

    def charge(
        self,
        workspace: Workspace,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        description: str,
        metadata: dict[str, str],
    ) -> ChargeResult:
        if amount_cents <= 0:
            raise PaymentError(_("Nothing to charge."))
        method = PaymentMethod.objects.filter(workspace=workspace, is_default=True).first()
        if method is None:
            return ChargeResult(ChargeStatus.FAILED, "", _("No payment method on file."))
        if expired(method.exp_month, method.exp_year, timezone.now().date()):
            return ChargeResult(ChargeStatus.FAILED, "", _("The card has expired."))
        customer = self.ensure_customer(workspace)
        params: Any = {
            "amount": amount_cents,
            "currency": currency.lower(),
            "customer": customer,
            "payment_method": method.card_token,
            "payment_method_types": ["card"],
            "off_session": True,
            "confirm": True,
            "metadata": {**metadata, "description": description[:400]},
        }
        try:
            intent = client().v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError as exc:
            error = exc.error
            code = getattr(error, "code", None)
            reference = object_id(getattr(error, "payment_intent", None))
            if code == "authentication_required" and reference:
                # Stripe's answer for an off-session charge the bank wants confirmed.
                return ChargeResult(ChargeStatus.REQUIRES_ACTION, reference, amount_cents=amount_cents)
            message = decline_message(code, getattr(error, "decline_code", None))
            return ChargeResult(ChargeStatus.FAILED, reference, message, amount_cents=amount_cents)
        except stripe.StripeError as exc:
            raise PaymentError() from exc
        return intent_result(intent)

    def charge_status(self, reference: str) -> ChargeResult:
        return intent_result(call(lambda: client().v1.payment_intents.retrieve(reference)))

    def cancel_charge(self, reference: str) -> ChargeResult:
        current = self.charge_status(reference)
        if current.status in ChargeStatus.FINAL:
            return current
        try:
            return intent_result(client().v1.payment_intents.cancel(reference))
        except stripe.InvalidRequestError:
            # It moved on (paid) between our read and the cancel.
            return self.charge_status(reference)
        except stripe.StripeError as exc:
            raise PaymentError() from exc

    def authentication_secret(self, reference: str) -> str:
        intent = call(lambda: client().v1.payment_intents.retrieve(reference))
        return str(intent.client_secret)

    def refund(self, reference: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        if amount_cents <= 0:
            raise PaymentError(_("This payment cannot be refunded for that amount."))
        refund = call(
            lambda: client().v1.refunds.create(
                params={"payment_intent": reference, "amount": amount_cents},
                options={"idempotency_key": idempotency_key},
            )
        )
        return RefundResult(
            succeeded=refund.status in ("succeeded", "pending"),
            reference=refund.id,
            amount_cents=int(refund.amount),
            charge_reference=reference,
        )
