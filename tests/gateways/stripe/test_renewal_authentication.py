"""A renewal charged with a card whose bank wants every off-session charge confirmed: no
change waits for it, so the invoice goes to dunning like a decline AND the payer is
emailed the confirmation link; authenticating pays it, and a new attempt (a dunning
retry, a new card) first cancels the one still waiting, so it is never paid twice
(docs/rules/payments.md#authentication)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from invoices.models import Invoice, InvoiceStatus
from subscriptions.models import PendingChange, Subscription
from tests.factories import subscribe
from tests.gateways.stripe.support import (
    VISA_3DS,
    VISA_OK,
    authenticate,
    charges_of,
    client_secret_on,
    intent,
    intents_for,
    payer_emails_sent,
    save_card,
    tick,
    waiting_charge,
)
from tests.subscriptions.conftest import at

pytestmark = pytest.mark.django_db

RENEWAL = at(2026, 4, 1, 0, 5)
DAY_1 = at(2026, 4, 2, 0, 5)


def _subscription(workspace) -> Subscription:
    return Subscription.objects.select_related("plan").get(workspace=workspace)


def _renewal(workspace) -> Invoice:
    return Invoice.objects.get(workspace=workspace, source__startswith="renewal:")


def auth_url(invoice: Invoice) -> str:
    return reverse("stripe_charge_authenticate", args=[invoice.workspace_id, invoice.pk])


@pytest.fixture
def renewal_waiting(billed_workspace, owner):
    """Business monthly from 1 March; a 3-D Secure card saved on 20 March; the 1 April
    renewal (24,00 €) waits for the payer's authentication."""
    subscribe(billed_workspace, owner, "business", now=at(2026, 3, 1, 9))
    save_card(billed_workspace, owner, VISA_3DS, now=at(2026, 3, 20))
    mail.outbox.clear()
    with payer_emails_sent():
        tick(RENEWAL)
    return _renewal(billed_workspace)


def test_the_renewal_goes_to_dunning_and_the_payer_is_sent_the_link(renewal_waiting, billed_workspace, owner):
    invoice = renewal_waiting

    assert (invoice.status, invoice.amount_due_cents, invoice.attempt_count) == (
        InvoiceStatus.FAILED,
        2_400,
        1,
    )
    assert invoice.next_payment_attempt_at == DAY_1
    subscription = _subscription(billed_workspace)
    assert (subscription.plan.code, subscription.status) == ("business", "past_due")
    assert not PendingChange.objects.filter(invoice=invoice).exists()
    assert intent(waiting_charge(invoice).reference).status == "requires_action"
    links = [m for m in mail.outbox if auth_url(invoice) in m.body]
    assert len(links) == 1
    assert links[0].to == [owner.user.email]


def test_authenticating_later_pays_the_renewal_and_the_subscription_is_active(
    client, renewal_waiting, billed_workspace, owner
):
    invoice = renewal_waiting
    reference = waiting_charge(invoice).reference
    client.force_login(owner.user)
    with time_machine.travel(at(2026, 4, 1, 10), tick=False):
        page = client.get(auth_url(invoice))
        authenticate(reference, success=True)
        client.post(auth_url(invoice))

    assert client_secret_on(page) == intent(reference).client_secret
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_at, invoice.next_payment_attempt_at) == (
        InvoiceStatus.PAID,
        at(2026, 4, 1, 10),
        None,
    )
    subscription = _subscription(billed_workspace)
    assert (subscription.status, subscription.past_due_since) == ("active", None)
    # The day-1 retry has nothing left to charge.
    tick(DAY_1)
    assert charges_of(invoice) == [(1, "succeeded")]
    assert len(intents_for(invoice)) == 1


def test_a_dunning_retry_cancels_the_waiting_charge_before_charging_again(renewal_waiting, billed_workspace):
    invoice = renewal_waiting
    first = waiting_charge(invoice).reference
    mail.outbox.clear()

    with payer_emails_sent():
        tick(DAY_1)

    invoice.refresh_from_db()
    assert charges_of(invoice) == [(1, "canceled"), (2, "requires_action")]
    second = waiting_charge(invoice).reference
    assert {(i.id, i.status) for i in intents_for(invoice)} == {
        (first, "canceled"),
        (second, "requires_action"),
    }
    assert (invoice.status, invoice.attempt_count) == (InvoiceStatus.FAILED, 2)
    assert _subscription(billed_workspace).status == "past_due"
    # The payer is sent the link again, for the new attempt.
    assert len([m for m in mail.outbox if auth_url(invoice) in m.body]) == 1


def test_the_page_confirms_the_latest_attempt_after_a_retry(client, renewal_waiting, owner):
    invoice = renewal_waiting
    tick(DAY_1)
    client.force_login(owner.user)

    with time_machine.travel(DAY_1 + timedelta(hours=1), tick=False):
        page = client.get(auth_url(invoice))
        authenticate(waiting_charge(invoice).reference, success=True)
        client.post(auth_url(invoice))

    assert client_secret_on(page) == intent(invoice.charges.get(attempt=2).reference).client_secret
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert [i.status for i in intents_for(invoice) if i.status == "succeeded"] == ["succeeded"]


def test_a_charge_authenticated_just_before_the_retry_is_the_answer_no_new_attempt(
    renewal_waiting, billed_workspace
):
    invoice = renewal_waiting
    authenticate(waiting_charge(invoice).reference, success=True)  # the page was never posted back

    tick(DAY_1)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_at) == (InvoiceStatus.PAID, DAY_1)
    assert charges_of(invoice) == [(1, "succeeded")]
    assert [i.status for i in intents_for(invoice)] == ["succeeded"]
    assert _subscription(billed_workspace).status == "active"


def test_a_new_card_cancels_the_waiting_charge_and_pays_once(renewal_waiting, billed_workspace, owner):
    invoice = renewal_waiting
    first = waiting_charge(invoice).reference

    saved = save_card(billed_workspace, owner, VISA_OK, now=at(2026, 4, 1, 12))

    assert saved.paid == 1
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_at) == (InvoiceStatus.PAID, at(2026, 4, 1, 12))
    assert charges_of(invoice) == [(1, "canceled"), (2, "succeeded")]
    statuses = {i.id: i.status for i in intents_for(invoice)}
    assert statuses.pop(first) == "canceled"
    assert list(statuses.values()) == ["succeeded"]


def test_a_last_retry_the_bank_wants_confirmed_ends_dunning_like_a_decline(renewal_waiting, billed_workspace):
    """Retries on 2, 4, 6 and 8 April at 00:05, each asking for authentication: the last
    one is a failure like a decline (docs/rules/dunning.md#authentication). Its charge is
    cancelled before anyone is sent to it, and the subscription expires to Free."""
    invoice = renewal_waiting
    for day in (2, 4, 6):
        tick(at(2026, 4, day, 0, 5))
    mail.outbox.clear()

    with payer_emails_sent():
        tick(at(2026, 4, 8, 0, 5))

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID
    assert charges_of(invoice) == [(1, "canceled"), (2, "canceled"), (3, "canceled"), (4, "canceled"),
                                   (5, "canceled")]  # fmt: skip
    assert {i.status for i in intents_for(invoice)} == {"canceled"}
    subscription = _subscription(billed_workspace)
    assert (subscription.plan.code, subscription.status) == ("free", "active")
    note = Invoice.objects.get(corrects=invoice)
    assert note.total_cents == -2_400
    assert not [m for m in mail.outbox if auth_url(invoice) in m.body]


def test_a_last_failure_recorded_from_a_webhook_first_is_carried_out_by_the_next_sweep(
    renewal_waiting, billed_workspace
):
    """The last attempt's answer reached us by webhook before the retry's own answer (the
    webhook handler records the failure; nothing carries out its consequence there): the
    next billing sweep does, and cancels the charge still waiting for the payer."""
    from billing.services.dunning import record_payment_failure

    invoice = renewal_waiting
    for day in (2, 4, 6):
        tick(at(2026, 4, day, 0, 5))
    invoice.refresh_from_db()
    assert invoice.attempt_count == 4
    record_payment_failure(invoice=invoice, attempt=5, now=at(2026, 4, 8, 0, 5), reason="declined")
    assert _subscription(billed_workspace).plan.code == "business"

    tick(at(2026, 4, 8, 0, 10))

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID
    assert (_subscription(billed_workspace).plan.code, _subscription(billed_workspace).status) == (
        "free",
        "active",
    )
    assert {i.status for i in intents_for(invoice)} == {"canceled"}
