"""The local payment gateway: test cards, idempotent charges, refunds, signed setup links."""

from datetime import date, timedelta

import pytest
import time_machine
from celery.exceptions import Retry
from django.core import signing
from django.test import override_settings
from django.utils import timezone

from gateways.base import ChargeResult, PaymentError, get_gateway
from gateways.local.cards import save_test_card
from gateways.local.gateway import (
    LocalGateway,
    card_brand,
    card_expired,
    luhn_valid,
    make_setup_token,
    read_setup_token,
)
from subscriptions.models import CardOutcome, LocalCharge, PaymentMethod
from tests.factories import VISA_DECLINED
from tests.subscriptions.conftest import at, save_card
from workspaces.errors import DomainError


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4242424242424242", True),
        ("4000000000000002", True),
        ("378282246310005", True),
        ("4242424242424241", False),
        ("1234567812345678", False),
        ("42424242424242a2", False),
    ],
)
def test_luhn(number, valid):
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "Visa"),
        ("5555555555554444", "Mastercard"),
        ("2223003122003222", "Mastercard"),
        ("378282246310005", "Amex"),
    ],  # fmt: skip
)
def test_brand(number, brand):
    assert card_brand(number) == brand


def test_a_card_is_valid_through_its_expiry_month():
    assert not card_expired(4, 2026, date(2026, 4, 30))
    assert card_expired(4, 2026, date(2026, 5, 1))


def test_get_gateway_is_the_local_one_by_default():
    assert isinstance(get_gateway(), LocalGateway)


@override_settings(PAYMENTS_GATEWAY="stripe")
def test_the_stripe_gateway_is_not_available_yet():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        get_gateway()


def test_only_brand_last4_expiry_and_outcome_are_stored(workspace, owner):
    method = save_card(workspace, owner)

    stored = PaymentMethod.objects.filter(pk=method.pk).values().get()
    assert {k: stored[k] for k in ("brand", "last4", "exp_month", "exp_year", "card_token")} == {
        "brand": "Visa", "last4": "4242", "exp_month": 12, "exp_year": 2039, "card_token": CardOutcome.SUCCEEDS,
    }  # fmt: skip
    assert "4242424242424242" not in str(stored)
    info = get_gateway().default_payment_method(workspace)
    assert (info.brand, info.last4, info.exp_month, info.exp_year) == ("Visa", "4242", 12, 2039)


def test_a_new_card_replaces_the_default(workspace, owner):
    first = save_card(workspace, owner)
    second = save_card(workspace, owner, VISA_DECLINED)

    first.refresh_from_db()
    assert first.is_default is False
    assert second.is_default is True
    assert get_gateway().default_payment_method(workspace).last4 == "0002"


def test_a_card_that_is_not_a_test_card_is_refused(workspace, owner):
    with pytest.raises(DomainError):
        save_test_card(
            workspace=workspace,
            actor=owner,
            number="4012888888881881",
            exp_month=1,
            exp_year=2039,
            now=at(2026, 1, 1),
        )
    assert not PaymentMethod.objects.filter(workspace=workspace).exists()


def test_a_charge_is_idempotent_per_key(workspace, owner, other_workspace):
    save_card(workspace, owner)
    gateway = get_gateway()

    first = gateway.charge(workspace, 1_000, "EUR", "invoice:1:attempt:1", "INV-1")
    again = gateway.charge(workspace, 1_000, "EUR", "invoice:1:attempt:1", "INV-1")
    other = gateway.charge(workspace, 1_000, "EUR", "invoice:1:attempt:2", "INV-1")

    assert first == again
    assert first.succeeded
    assert other.reference != first.reference
    assert LocalCharge.objects.filter(workspace=workspace).count() == 2
    assert not LocalCharge.objects.filter(workspace=other_workspace).exists()


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("4000000000000002", "La carte a été refusée."),
        ("4000000000009995", "La carte a été refusée : provision insuffisante."),
    ],  # fmt: skip
)
def test_declining_cards_fail_with_a_french_reason(workspace, owner, number, message):
    save_card(workspace, owner, number)

    result = get_gateway().charge(workspace, 1_000, "EUR", "invoice:9:attempt:1", "INV-9")

    assert result == ChargeResult(succeeded=False, reference=result.reference, failure_message=message)


def test_no_card_and_an_expired_card_fail(workspace, owner):
    gateway = get_gateway()
    assert (
        gateway.charge(workspace, 500, "EUR", "k:1", "x").failure_message
        == "Aucune méthode de paiement enregistrée."
    )
    save_card(workspace, owner)
    with time_machine.travel(at(2040, 1, 1), tick=False):
        assert gateway.charge(workspace, 500, "EUR", "k:2", "x").failure_message == "La carte a expiré."


def test_nothing_is_charged_for_zero(workspace, owner):
    save_card(workspace, owner)
    with pytest.raises(PaymentError):
        get_gateway().charge(workspace, 0, "EUR", "k:0", "x")
    assert not LocalCharge.objects.exists()


def test_a_refund_is_bounded_by_the_charge(workspace, owner):
    save_card(workspace, owner)
    gateway = get_gateway()
    charge = gateway.charge(workspace, 1_000, "EUR", "k:1", "x")

    assert gateway.refund(charge.reference, 600).amount_cents == 600
    with pytest.raises(PaymentError):
        gateway.refund(charge.reference, 401)
    assert gateway.refund(charge.reference, 400).succeeded
    assert LocalCharge.objects.get(reference=charge.reference).refunded_cents == 1_000


def test_the_setup_link_is_signed_and_valid_one_hour(workspace):
    token = make_setup_token(workspace, "/back/")
    assert read_setup_token(token) == (str(workspace.pk), "/back/")
    assert get_gateway().setup_url(workspace, "/back/").startswith("/pay/setup/")

    with pytest.raises(signing.BadSignature):
        read_setup_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with (
        time_machine.travel(timezone.now() + timedelta(hours=1, seconds=5)),
        pytest.raises(signing.SignatureExpired),
    ):
        read_setup_token(token)


def test_the_customer_id_is_stable(workspace):
    gateway = get_gateway()
    assert (
        gateway.ensure_customer(workspace)
        == gateway.ensure_customer(workspace)
        == f"local_cus_{workspace.pk.hex}"
    )


def test_an_unreachable_gateway_is_retried_with_the_same_key(workspace, owner, monkeypatch):
    from billing import services
    from invoices.models import InvoiceStatus
    from tests.factories import price_id

    save_card(workspace, owner)
    calls = []
    real_charge = LocalGateway.charge

    def flaky(self, ws, amount, currency, key, description):
        calls.append(key)
        if len(calls) == 1:
            raise PaymentError()
        return real_charge(self, ws, amount, currency, key, description)

    monkeypatch.setattr(LocalGateway, "charge", flaky)
    now = at(2026, 4, 1, 9)
    preview = services.preview_subscribe(workspace=workspace, price_id=price_id("business"), now=now)

    result = services.apply_subscribe(
        workspace=workspace, actor=owner, price_id=price_id("business"), preview=preview, now=now
    )

    # The synchronous charge failed without an answer; the task (eager here) retried it.
    assert calls == [f"invoice:{result.invoice.pk}:attempt:1"] * 2
    assert result.invoice.status == InvoiceStatus.PAID
    assert LocalCharge.objects.filter(workspace=workspace).count() == 1


def test_the_charge_task_retries_a_gateway_error(workspace, owner, monkeypatch):
    from billing.tasks import charge_invoice_task
    from invoices.issuing import invoice_create
    from invoices.models import InvoiceStatus
    from invoices.totals import DraftLine

    save_card(workspace, owner)
    invoice = invoice_create(
        workspace=workspace,
        lines=[DraftLine(kind="plan", description="Business, 1 month × 20,00 €", amount_cents=2_000)],
        billing_reason="subscription_cycle",
        source="test:1",
        now=at(2026, 4, 1),
    )
    calls = []
    real_charge = LocalGateway.charge

    def flaky(self, ws, amount, currency, key, description):
        calls.append(key)
        if len(calls) < 3:
            raise PaymentError()
        return real_charge(self, ws, amount, currency, key, description)

    monkeypatch.setattr(LocalGateway, "charge", flaky)
    when = at(2026, 4, 1, 0, 5).isoformat()

    # An unknown outcome asks Celery for a retry (eager here: the Retry surfaces)…
    for _ in range(2):
        with pytest.raises(Retry):
            charge_invoice_task.delay(invoice.pk, 1, when)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    # …and the retry charges with the same idempotency key.
    assert charge_invoice_task.delay(invoice.pk, 1, when).get() is True

    invoice.refresh_from_db()
    assert calls == [f"invoice:{invoice.pk}:attempt:1"] * 3
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.paid_at == at(2026, 4, 1, 0, 5)
