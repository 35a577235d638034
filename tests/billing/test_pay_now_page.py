""" "Payer maintenant" (docs/rules/dunning.md#payer-maintenant): owners and admins pay one
unpaid invoice at once from the Billing tab, after a confirmation that names the amount
and the card; a decline says why and changes nothing but the attempt count."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from invoices.models import Charge, Invoice, InvoiceStatus
from subscriptions.models import Subscription
from tests.billing.test_dunning_per_invoice import tick
from tests.factories import VISA_DECLINED, MembershipFactory, subscribe
from tests.factories.subscriptions import make_charges_succeed
from tests.subscriptions.conftest import at, save_card
from workspaces.models import Role

pytestmark = pytest.mark.django_db

NOW = at(2026, 4, 1, 15)


@pytest.fixture
def failed_renewal(billed_workspace, owner):
    """Business monthly from 1 March; the 1 April renewal (24,00 €) declined at 00:05."""
    subscribe(billed_workspace, owner, "business", now=at(2026, 3, 1, 9))
    save_card(billed_workspace, owner, VISA_DECLINED, now=at(2026, 3, 20))
    tick(at(2026, 4, 1, 0, 5))
    invoice = Invoice.objects.get(workspace=billed_workspace, source__startswith="renewal:")
    assert invoice.status == InvoiceStatus.FAILED
    return invoice


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _page(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).replace("\u00a0", " ")


def _pay_url(invoice: Invoice) -> str:
    return reverse("subscription_invoice_pay", args=[invoice.workspace_id, invoice.pk])


def _token(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match is not None
    return match.group(1)


def _funds_added(workspace) -> None:
    # The bank now accepts the same card (its funds were topped up): its next charge succeeds.
    make_charges_succeed(workspace)


def test_an_admin_sees_pay_now_on_the_unpaid_invoice_only(client, failed_renewal, owner):
    admin = MembershipFactory(workspace=failed_renewal.workspace, role=Role.ADMIN)
    client.force_login(admin.user)

    page = client.get(reverse("subscription_billing", args=[failed_renewal.workspace_id])).content.decode()

    assert page.count(">Payer maintenant</a>") == 1
    assert _pay_url(failed_renewal) in page
    paid = Invoice.objects.get(workspace=failed_renewal.workspace, status=InvoiceStatus.PAID)
    assert _pay_url(paid) not in page


def test_paying_now_charges_the_invoice_once_and_the_subscription_is_active(client, failed_renewal, owner):
    workspace = failed_renewal.workspace
    _funds_added(workspace)
    client.force_login(owner.user)

    confirm = client.get(_pay_url(failed_renewal))

    assert confirm.status_code == 200
    assert (
        f"Payer maintenant la facture {failed_renewal.number} : 24,00 € débités sur la carte Visa se terminant par 0341."
        in _page(confirm)
    )
    token = _token(confirm)
    response = client.post(_pay_url(failed_renewal), {"token": token}, follow=True)
    again = client.post(_pay_url(failed_renewal), {"token": token}, follow=True)

    assert f"La facture {failed_renewal.number} est payée : 24,00 €." in _page(response)
    assert f"La facture {failed_renewal.number} est payée : 24,00 €." in _page(again)
    failed_renewal.refresh_from_db()
    assert (failed_renewal.status, failed_renewal.paid_at) == (InvoiceStatus.PAID, NOW)
    assert Subscription.objects.get(workspace=workspace).status == "active"
    # Attempt 2, charged once although the confirmation was posted twice.
    charges = Charge.objects.filter(
        workspace=workspace, idempotency_key__startswith=f"invoice:{failed_renewal.pk}:"
    ).order_by("id")
    assert list(charges.values_list("idempotency_key", "status", "amount_cents")) == [
        (f"invoice:{failed_renewal.pk}:attempt:1", "failed", 2_400),
        (f"invoice:{failed_renewal.pk}:attempt:2", "succeeded", 2_400),
    ]


def test_a_declined_payment_says_why_and_keeps_the_retry_schedule(client, failed_renewal, owner):
    client.force_login(owner.user)
    token = _token(client.get(_pay_url(failed_renewal)))

    response = client.post(_pay_url(failed_renewal), {"token": token}, follow=True)

    assert (
        "Le paiement de 24,00 € a été refusé : La carte a été refusée. "
        "Mettez à jour la méthode de paiement, puis réessayez."
    ) in _page(response)
    failed_renewal.refresh_from_db()
    assert (failed_renewal.status, failed_renewal.attempt_count) == (InvoiceStatus.FAILED, 2)
    # The schedule still counts from the first failure: day 1 is 2 April 00:05.
    assert failed_renewal.next_payment_attempt_at == at(2026, 4, 2, 0, 5)
    assert Subscription.objects.get(workspace=failed_renewal.workspace).status == "past_due"


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER])
def test_only_owners_and_admins_may_pay_now(client, failed_renewal, role):
    member = MembershipFactory(workspace=failed_renewal.workspace, role=role)
    client.force_login(member.user)

    assert client.get(_pay_url(failed_renewal)).status_code == 403
    assert client.post(_pay_url(failed_renewal), {"token": "t"}).status_code == 403
    assert (
        "Payer maintenant"
        not in client.get(
            reverse("subscription_billing", args=[failed_renewal.workspace_id])
        ).content.decode()
    )
    assert Charge.objects.filter(workspace=failed_renewal.workspace).count() == 2


def test_another_workspaces_invoice_is_not_found(client, failed_renewal, other_workspace):
    stranger = other_workspace.memberships.get(role=Role.OWNER)
    client.force_login(stranger.user)

    url = reverse("subscription_invoice_pay", args=[other_workspace.pk, failed_renewal.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"token": "t"}).status_code == 404
    failed_renewal.refresh_from_db()
    assert failed_renewal.attempt_count == 1


def test_a_paid_invoice_has_nothing_to_pay(client, failed_renewal, owner):
    paid = Invoice.objects.get(workspace=failed_renewal.workspace, status=InvoiceStatus.PAID)
    client.force_login(owner.user)

    confirm = client.get(_pay_url(paid))
    response = client.post(_pay_url(paid), {"token": "t2"}, follow=True)

    assert f"Il ne reste rien à payer sur la facture {paid.number}." in _page(confirm)
    assert "Cette facture est déjà payée." in _page(response)
