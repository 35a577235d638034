"""The Stripe gateway (docs/rules/payments.md#stripe) against the test run's offline Stripe:
one Customer per workspace, idempotent off-session charges, declines and 3-D Secure as
results, refunds, and Stripe's failures turned into "outcome unknown"."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import translation

from gateways.base import CardDeclined, ChargeResult, ChargeStatus, PaymentError, get_gateway
from gateways.stripe.client import client, decline_message
from gateways.stripe.gateway import StripeGateway
from gateways.stripe.models import StripeCustomer
from subscriptions.models import PaymentMethod
from tests.factories import WorkspaceFactory, subscribe
from tests.gateways.stripe.support import (
    VISA_3DS,
    VISA_DECLINED,
    VISA_OK,
    Network,
    authenticate,
    customer_of,
    french,
    intent,
    intents_for,
    intents_of,
    save_card,
)
from tests.subscriptions.conftest import at

pytestmark = pytest.mark.django_db

NOW = at(2026, 4, 1, 9)
METADATA = {"invoice_id": "41", "invoice_number": "F-2026-000041", "workspace_id": "w", "attempt": "1"}


@pytest.fixture
def unreachable(settings, monkeypatch):
    """Stripe cannot be reached: nothing listens on its address."""
    Network(settings, monkeypatch).down()


def _charge(workspace, key: str, amount: int = 1_000) -> ChargeResult:
    return get_gateway().charge(workspace, amount, "EUR", key, "F-2026-000041 (Acme Test)", METADATA)


def test_the_gateway_is_stripes():
    assert isinstance(get_gateway(), StripeGateway)


@override_settings(PAYMENTS_GATEWAY="local")
def test_a_gateway_that_no_longer_exists_is_refused():
    with pytest.raises(ImproperlyConfigured):
        get_gateway()


# --- customers -------------------------------------------------------------------------------


def test_a_workspace_has_one_stripe_customer_created_on_first_use(workspace, other_workspace):
    gateway = get_gateway()

    first = gateway.ensure_customer(workspace)
    again = gateway.ensure_customer(workspace)
    other = gateway.ensure_customer(other_workspace)

    assert first == again
    assert first.startswith("cus_")
    assert other != first
    assert StripeCustomer.objects.get(workspace=workspace).customer_id == first
    customer = client().v1.customers.retrieve(first)
    assert (customer.name, customer.metadata["workspace_id"]) == ("Acme Test", str(workspace.pk))


def test_a_customer_created_but_not_stored_is_found_again_not_duplicated(workspace):
    gateway = get_gateway()
    first = gateway.ensure_customer(workspace)
    # The process stopped between Stripe's answer and our row: the next call asks again.
    StripeCustomer.objects.filter(workspace=workspace).delete()

    assert gateway.ensure_customer(workspace) == first


# --- cards -----------------------------------------------------------------------------------


def test_only_brand_last4_expiry_and_the_stripe_card_id_are_stored(workspace, owner):
    method = save_card(workspace, owner, VISA_OK, now=NOW).method

    stored = PaymentMethod.objects.filter(pk=method.pk).values().get()
    assert (stored["brand"], stored["last4"], stored["exp_month"], stored["exp_year"]) == (
        "Visa",
        "4242",
        12,
        2039,
    )
    assert stored["card_token"].startswith("pm_")
    assert VISA_OK not in str(stored)
    assert client().v1.payment_methods.retrieve(stored["card_token"]).customer == customer_of(workspace)
    info = get_gateway().default_payment_method(workspace)
    assert (info.brand, info.last4, info.exp_month, info.exp_year) == ("Visa", "4242", 12, 2039)


def test_a_new_card_replaces_the_default(workspace, owner):
    first = save_card(workspace, owner, VISA_OK, now=NOW).method
    second = save_card(workspace, owner, VISA_DECLINED, now=NOW).method

    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    assert get_gateway().default_payment_method(workspace).last4 == "0341"


def test_no_card_on_file_means_no_payment_method(workspace):
    assert get_gateway().default_payment_method(workspace) is None


# --- charges ---------------------------------------------------------------------------------


def test_a_charge_is_idempotent_per_key(workspace, owner, other_workspace):
    save_card(workspace, owner, VISA_OK, now=NOW)

    first = _charge(workspace, f"test:{workspace.pk}:attempt:1")
    again = _charge(workspace, f"test:{workspace.pk}:attempt:1")
    other = _charge(workspace, f"test:{workspace.pk}:attempt:2")

    assert first == again
    assert first.succeeded
    assert first.reference.startswith("pi_")
    assert other.reference != first.reference
    assert {(i.id, i.status, i.amount) for i in intents_of(workspace)} == {
        (first.reference, "succeeded", 1_000),
        (other.reference, "succeeded", 1_000),
    }
    assert intents_of(other_workspace) == []


def test_an_invoice_is_charged_off_session_with_its_ids_in_the_metadata(billed_workspace, owner):
    result = subscribe(billed_workspace, owner, "business", now=NOW)

    invoice = result.invoice
    (charged,) = intents_for(invoice)
    assert (charged.amount, charged.currency, charged.status) == (2_400, "eur", "succeeded")
    assert charged.customer == customer_of(billed_workspace)
    assert {k: charged.metadata[k] for k in ("invoice_id", "invoice_number", "workspace_id", "attempt")} == {
        "invoice_id": str(invoice.pk),
        "invoice_number": invoice.number,
        "workspace_id": str(billed_workspace.pk),
        "attempt": "1",
    }
    assert invoice.number in charged.metadata["description"]
    assert invoice.payment_reference == charged.id


@pytest.mark.parametrize(
    ("language", "message"),
    [("fr", "La carte a été refusée."), ("en", "The card was declined.")],
)
def test_a_declined_card_is_a_failed_result_with_the_reason_in_the_readers_language(
    workspace, owner, language, message
):
    save_card(workspace, owner, VISA_DECLINED, now=NOW)

    with translation.override(language):
        result = _charge(workspace, f"test:{workspace.pk}:declined")

    assert (result.status, result.failure_message, result.succeeded) == (ChargeStatus.FAILED, message, False)


@pytest.mark.parametrize(
    ("code", "decline_code", "message"),
    [
        ("card_declined", "insufficient_funds", "La carte a été refusée : provision insuffisante."),
        ("card_declined", "lost_card", french("The card was declined: reported lost.")),
        ("card_declined", "stolen_card", french("The card was declined: reported stolen.")),
        ("expired_card", None, "La carte a expiré."),
        ("card_declined", "generic_decline", "La carte a été refusée."),
        (None, None, "La carte a été refusée."),
    ],
)
def test_stripes_decline_codes_become_reasons_in_french(code, decline_code, message):
    assert decline_message(code, decline_code) == message


def test_a_card_asking_for_authentication_is_a_result_waiting_for_the_payer(workspace, owner):
    save_card(workspace, owner, VISA_3DS, now=NOW)

    result = _charge(workspace, f"test:{workspace.pk}:3ds")

    assert result.status == ChargeStatus.REQUIRES_ACTION
    assert result.requires_action
    assert result.reference.startswith("pi_")
    assert result.amount_cents == 1_000
    assert intent(result.reference).status == "requires_action"


def test_the_authentication_secret_is_the_payment_intents_client_secret(workspace, owner):
    save_card(workspace, owner, VISA_3DS, now=NOW)
    reference = _charge(workspace, f"test:{workspace.pk}:3ds").reference

    secret = get_gateway().authentication_secret(reference)

    assert secret == intent(reference).client_secret
    assert secret.startswith(f"{reference}_secret_")


def test_the_charge_status_follows_the_payers_authentication(workspace, owner):
    save_card(workspace, owner, VISA_3DS, now=NOW)
    gateway = get_gateway()
    passed = _charge(workspace, f"test:{workspace.pk}:3ds:1").reference
    refused = _charge(workspace, f"test:{workspace.pk}:3ds:2").reference

    assert gateway.charge_status(passed).status == ChargeStatus.REQUIRES_ACTION
    authenticate(passed, success=True)
    authenticate(refused, success=False)

    assert gateway.charge_status(passed) == ChargeResult(ChargeStatus.SUCCEEDED, passed, "", 1_000)
    failed = gateway.charge_status(refused)
    assert (failed.status, failed.reference, failed.amount_cents) == (ChargeStatus.FAILED, refused, 1_000)
    assert failed.failure_message


def test_a_waiting_charge_is_cancelled_and_a_paid_one_stays_paid(workspace, owner):
    gateway = get_gateway()
    save_card(workspace, owner, VISA_OK, now=NOW)
    paid = _charge(workspace, f"test:{workspace.pk}:paid").reference
    save_card(workspace, owner, VISA_3DS, now=NOW)
    waiting = _charge(workspace, f"test:{workspace.pk}:waiting").reference
    authenticated = _charge(workspace, f"test:{workspace.pk}:authenticated").reference
    authenticate(authenticated, success=True)

    assert gateway.cancel_charge(waiting).status == ChargeStatus.CANCELED
    assert gateway.cancel_charge(paid).status == ChargeStatus.SUCCEEDED
    assert gateway.cancel_charge(authenticated).status == ChargeStatus.SUCCEEDED
    assert [intent(r).status for r in (waiting, paid, authenticated)] == [
        "canceled",
        "succeeded",
        "succeeded",
    ]
    # Cancelling again changes nothing.
    assert gateway.cancel_charge(waiting).status == ChargeStatus.CANCELED


def test_no_card_and_an_expired_card_fail_without_asking_stripe(workspace, owner):
    gateway = get_gateway()
    assert _charge(workspace, "test:no-card").failure_message == "Aucune méthode de paiement enregistrée."
    save_card(workspace, owner, VISA_OK, now=NOW)
    with time_machine.travel(at(2040, 1, 1), tick=False):
        expired = gateway.charge(workspace, 500, "EUR", "test:expired", "x", METADATA)
    assert (expired.status, expired.failure_message) == (ChargeStatus.FAILED, "La carte a expiré.")
    assert intents_of(workspace) == []


def test_a_card_is_charged_through_its_expiry_month_and_not_after(workspace, owner):
    save_card(workspace, owner, VISA_OK, now=NOW)
    PaymentMethod.objects.filter(workspace=workspace).update(exp_month=4, exp_year=2026)
    gateway = get_gateway()

    with time_machine.travel(at(2026, 4, 30, 21), tick=False):
        last_day = gateway.charge(workspace, 500, "EUR", f"test:{workspace.pk}:april-30", "x", METADATA)
    with time_machine.travel(at(2026, 5, 1, 9), tick=False):
        next_month = gateway.charge(workspace, 500, "EUR", f"test:{workspace.pk}:may-1", "x", METADATA)

    assert last_day.succeeded
    assert (next_month.status, next_month.failure_message) == (ChargeStatus.FAILED, "La carte a expiré.")
    assert [i.id for i in intents_of(workspace)] == [last_day.reference]


@pytest.mark.parametrize("amount", [0, -100])
def test_nothing_is_charged_for_zero_or_less(workspace, owner, amount):
    save_card(workspace, owner, VISA_OK, now=NOW)

    with pytest.raises(PaymentError) as raised:
        _charge(workspace, f"test:{workspace.pk}:zero", amount)

    assert not isinstance(raised.value, CardDeclined)
    assert intents_of(workspace) == []


# --- refunds ---------------------------------------------------------------------------------


def test_a_charge_is_refunded_in_part_then_in_full(workspace, owner):
    save_card(workspace, owner, VISA_OK, now=NOW)
    gateway = get_gateway()
    reference = _charge(workspace, f"test:{workspace.pk}:refund").reference

    partial = gateway.refund(reference, 600, f"refund:{reference}:1")
    rest = gateway.refund(reference, 400, f"refund:{reference}:2")
    replayed = gateway.refund(reference, 400, f"refund:{reference}:2")

    assert (partial.succeeded, partial.amount_cents, partial.charge_reference) == (True, 600, reference)
    assert (rest.succeeded, rest.amount_cents) == (True, 400)
    assert partial.reference.startswith("re_")
    assert replayed == rest
    latest = intent(reference).latest_charge
    charge = client().v1.charges.retrieve(latest if isinstance(latest, str) else latest.id)
    assert (charge.amount_refunded, charge.refunded) == (1_000, True)


def test_a_refund_of_nothing_is_refused(workspace, owner):
    save_card(workspace, owner, VISA_OK, now=NOW)
    reference = _charge(workspace, f"test:{workspace.pk}:refund0").reference

    with pytest.raises(PaymentError):
        get_gateway().refund(reference, 0, f"refund:{reference}:0")


# --- Stripe unreachable ----------------------------------------------------------------------


def test_an_unreachable_stripe_is_an_unknown_outcome_never_a_decline(workspace, owner, unreachable):
    # The card and the customer are known already: the charge is the first call to Stripe.
    PaymentMethod.objects.create(
        workspace=workspace, brand="Visa", last4="4242", exp_month=12, exp_year=2039, card_token="pm_x"
    )
    StripeCustomer.objects.create(workspace=workspace, customer_id=f"cus_unreachable_{workspace.pk.hex}")
    gateway = get_gateway()

    for call in (
        lambda: _charge(workspace, "test:unreachable"),
        lambda: gateway.charge_status("pi_unreachable"),
        lambda: gateway.cancel_charge("pi_unreachable"),
        lambda: gateway.authentication_secret("pi_unreachable"),
        lambda: gateway.refund("pi_unreachable", 100, "refund:unreachable"),
        lambda: gateway.ensure_customer(WorkspaceFactory(name="Elsewhere")),
    ):
        with pytest.raises(PaymentError) as raised:
            call()
        assert not isinstance(raised.value, CardDeclined)
        assert (
            str(raised.value.message)
            == "Le paiement n'a pas pu être traité. Réessayez dans quelques minutes."
        )
