"""Stripe unreachable, or its answer lost on the way back: the outcome is unknown, the
invoice stays open with its charge pending, and the charge is asked again with the same
idempotency key, so a payment Stripe did take is found again, never made twice
(docs/rules/payments.md#charging-an-invoice)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from celery.exceptions import Retry

from billing import services
from billing.sweeps import run_billing_sweeps
from billing.tasks import CHARGE_MAX_RETRIES, charge_invoice_task
from gateways.base import PaymentError
from gateways.stripe.reconciliation import recheck_waiting_charges
from invoices.models import Charge, Invoice, InvoiceStatus
from subscriptions.models import PendingChange, PendingChangeState, Subscription
from tests.factories import price_id, subscribe
from tests.gateways.stripe.support import (
    VISA_OK,
    Network,
    charges_of,
    intents_for,
    intents_of,
    save_card,
)
from tests.subscriptions.conftest import at

pytestmark = pytest.mark.django_db

RENEWAL = at(2026, 4, 1, 0, 5)
APRIL_1 = at(2026, 4, 1, 9)


@pytest.fixture
def network(settings, monkeypatch) -> Network:
    return Network(settings, monkeypatch)


@pytest.fixture
def queued(monkeypatch) -> list[tuple[Any, ...]]:
    """The tasks queued for the workers (the broker), instead of run at once."""
    calls: list[tuple[Any, ...]] = []

    def enqueue(task_name: str, *args: Any, **options: Any) -> None:
        calls.append((task_name, *args))

    monkeypatch.setattr("billing.sweeps.enqueue", enqueue)
    monkeypatch.setattr("billing.services.lifecycle.enqueue_task", enqueue)
    return calls


@pytest.fixture
def business(billed_workspace, owner):
    """Business monthly (24,00 €) from 1 March, paid with a card that works."""
    subscribe(billed_workspace, owner, "business", now=at(2026, 3, 1, 9))
    return billed_workspace


def _renewal(workspace) -> Invoice:
    return Invoice.objects.get(workspace=workspace, source__startswith="renewal:")


def _worker_runs(args: tuple[Any, ...], retries: int = 0) -> Any:
    """The worker runs the charge task (a retry is the same task, ``retries`` later)."""
    return charge_invoice_task.apply(args=args, retries=retries, throw=True)


def test_stripe_unreachable_during_a_renewal_leaves_it_open_and_the_task_retries(business, network, queued):
    run_billing_sweeps(now=RENEWAL)
    ((task, *args),) = queued
    invoice = _renewal(business)
    assert (task, args) == ("billing.tasks.charge_invoice_task", [invoice.pk, 1, RENEWAL.isoformat()])

    network.down()
    with pytest.raises(Retry) as retry:
        _worker_runs(tuple(args))

    assert retry.value.when == 60  # then 2, 4, 8 and 16 minutes
    invoice.refresh_from_db()
    assert (invoice.status, invoice.attempt_count) == (InvoiceStatus.OPEN, 0)
    assert charges_of(invoice) == [(1, "pending")]
    assert Subscription.objects.get(workspace=business).status == "active"

    network.up()
    assert _worker_runs(tuple(args), retries=1).get() is True

    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_at) == (InvoiceStatus.PAID, RENEWAL)
    assert charges_of(invoice) == [(1, "succeeded")]
    assert Charge.objects.get(invoice=invoice).idempotency_key == f"invoice:{invoice.pk}:attempt:1"
    assert [i.status for i in intents_for(invoice)] == ["succeeded"]


def test_a_charge_stripe_took_but_whose_answer_was_lost_is_found_again_not_repeated(
    business, network, queued
):
    run_billing_sweeps(now=RENEWAL)
    ((_task, *args),) = queued
    invoice = _renewal(business)

    network.lose_answers(1)
    with pytest.raises(Retry):
        _worker_runs(tuple(args))

    assert network.http.lost == [f"invoice:{invoice.pk}:attempt:1"]
    (taken,) = intents_for(invoice)
    assert (taken.status, taken.amount) == ("succeeded", 2_400)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert charges_of(invoice) == [(1, "pending")]

    _worker_runs(tuple(args), retries=1)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.payment_reference) == (InvoiceStatus.PAID, taken.id)
    assert [i.id for i in intents_for(invoice)] == [taken.id]
    assert Charge.objects.get(invoice=invoice).reference == taken.id


def test_a_purchase_whose_outcome_is_unknown_waits_and_is_applied_when_the_retry_succeeds(
    billed_workspace, owner, network, queued
):
    save_card(billed_workspace, owner, VISA_OK, now=APRIL_1)
    preview = services.preview_subscribe(
        workspace=billed_workspace, price_id=price_id("business"), now=APRIL_1
    )

    network.lose_answers(1)
    result = services.apply_subscribe(
        workspace=billed_workspace, actor=owner, price_id=price_id("business"), preview=preview, now=APRIL_1
    )

    invoice = result.invoice
    assert not result.payment.succeeded
    assert not result.payment.requires_action
    assert result.payment.message == "Le paiement n'a pas pu être traité. Réessayez dans quelques minutes."
    assert Subscription.objects.get(workspace=billed_workspace).plan.code == "free"
    assert invoice.status == InvoiceStatus.OPEN
    assert PendingChange.objects.get(invoice=invoice).state == PendingChangeState.WAITING
    assert queued == [("billing.tasks.charge_invoice_task", invoice.pk, 1, APRIL_1.isoformat())]

    _worker_runs(queued[0][1:], retries=1)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert Subscription.objects.get(workspace=billed_workspace).plan.code == "business"
    assert PendingChange.objects.get(invoice=invoice).state == PendingChangeState.APPLIED
    assert len(intents_for(invoice)) == 1
    assert len(intents_of(billed_workspace)) == 1


def test_the_charge_task_gives_up_after_its_retries_with_the_invoice_still_open(business, network, queued):
    run_billing_sweeps(now=RENEWAL)
    ((_task, *args),) = queued
    network.down()

    with pytest.raises(PaymentError):
        _worker_runs(tuple(args), retries=CHARGE_MAX_RETRIES)

    invoice = _renewal(business)
    assert (invoice.status, invoice.attempt_count) == (InvoiceStatus.OPEN, 0)
    assert charges_of(invoice) == [(1, "pending")]


def test_a_renewal_whose_charge_task_gave_up_is_charged_again_once_stripe_is_back(business, network, queued):
    """docs/rules/payments.md#catch-up-and-reconciliation: charges left pending are asked
    again; the same key makes that safe whether or not Stripe took the first one."""
    run_billing_sweeps(now=RENEWAL)
    ((_task, *args),) = queued
    network.down()
    with pytest.raises(PaymentError):
        _worker_runs(tuple(args), retries=CHARGE_MAX_RETRIES)
    network.up()
    invoice = _renewal(business)

    with time_machine.travel(RENEWAL + timedelta(minutes=45), tick=False):
        recheck_waiting_charges()
    for day in (2, 3):
        run_billing_sweeps(now=at(2026, 4, day, 0, 5))
    for _name, *later in queued[1:]:
        _worker_runs(tuple(later))

    invoice.refresh_from_db()
    assert invoice.status in (InvoiceStatus.PAID, InvoiceStatus.FAILED), (
        "the renewal is left open with a pending charge that nothing asks again: "
        "the subscription runs unpaid and out of dunning"
    )
