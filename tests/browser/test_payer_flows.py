"""A payer's ways out, in Chromium: a declined invoice paid by saving a new card, without
waiting for the dunning retries (docs/rules/dunning.md#new-card); an expired session on
Customize sent to the login page and back (docs/architecture.md#htmx)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import services
from invoices.models import Invoice, InvoiceStatus
from invoices.totals import DraftLine
from subscriptions.models import Subscription
from tests.browser.conftest import sign_in
from tests.factories import (
    PASSWORD,
    VISA_DECLINED,
    VISA_OK,
    InvoiceFactory,
    MembershipFactory,
    UserFactory,
    subscribe,
)
from tests.factories import save_card as save_test_card
from workspaces.models import Membership, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme_owner() -> Membership:
    """Acme on Business monthly, bought today with a good card."""
    owner = MembershipFactory(
        role=Role.OWNER, workspace__name="Acme", user=UserFactory(email="owner@acme.test")
    )
    subscribe(owner.workspace, owner, "business", now=timezone.now())
    return owner


def _fill_card(page, number: str) -> None:
    element = page.locator("#card-element")
    element.get_by_placeholder("number", exact=True).fill(number)
    element.get_by_placeholder("exp_month", exact=True).fill("12")
    element.get_by_placeholder("exp_year", exact=True).fill("34")
    element.get_by_placeholder("cvc", exact=True).fill("123")
    element.get_by_placeholder("postal_code", exact=True).fill("75001")


def test_a_declined_invoice_is_paid_as_soon_as_a_new_card_is_saved(page, acme_owner):
    workspace = acme_owner.workspace
    now = timezone.now()
    save_test_card(workspace, number=VISA_DECLINED, now=now, exp_year=2030)
    line = DraftLine(kind="seat_proration", description="Business, 1 seat", amount_cents=2_000)
    invoice = InvoiceFactory(workspace=workspace, lines=[line], billing_reason="seat_change", issued_at=now)
    services.charge_invoice(invoice_id=invoice.pk, attempt=1, now=now)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.FAILED

    sign_in(page, acme_owner.user.email, PASSWORD)
    page.wait_for_url(f"**/{workspace.pk}/workspace/")
    page.goto(reverse("subscription_overview", args=[workspace.pk]))
    assert page.get_by_text("Paiement en retard").first.is_visible()
    page.get_by_role("button", name="Mettre à jour le paiement").click()
    page.wait_for_url(re.compile(re.escape(reverse("stripe_card_setup", args=[workspace.pk]))))
    _fill_card(page, VISA_OK)
    page.get_by_role("button", name="Enregistrer la carte").click()
    page.wait_for_url(f"**{reverse('subscription_overview', args=[workspace.pk])}")

    page.locator(".messages .message").first.wait_for()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.attempt_count) == (InvoiceStatus.PAID, 1)
    assert Subscription.objects.get(workspace=workspace).status == "active"
    assert page.get_by_text("Paiement en retard").count() == 0
    page.goto(reverse("invoice_detail", args=[workspace.pk, invoice.pk]))
    assert "Payée" in page.locator(".invoice-status").inner_text()
    assert Invoice.objects.filter(workspace=workspace, status=InvoiceStatus.FAILED).count() == 0


def test_an_expired_session_on_customize_signs_in_again_and_comes_back(page, acme_owner):
    workspace = acme_owner.workspace
    customize = reverse("subscription_customize", args=[workspace.pk])
    sign_in(page, acme_owner.user.email, PASSWORD)
    page.wait_for_url(f"**/{workspace.pk}/workspace/")
    page.goto(customize)
    seats = page.locator("input[name=extra_seats]")
    seats.wait_for()

    page.context.clear_cookies()  # the session expires
    seats.fill("2")

    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    assert page.locator("#customize-summary").count() == 0  # the whole page went to the login
    page.fill("input[name=login]", acme_owner.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")
    page.wait_for_url(f"**{customize}")
    assert page.locator("input[name=extra_seats]").count() == 1
