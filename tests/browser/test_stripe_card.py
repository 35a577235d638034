"""The payer's Stripe pages in Chromium (docs/rules/payments.md), against the test run's
offline Stripe and its stand-in Stripe.js (a card element of plain inputs, a modal for
3-D Secure): saving a card (accepted, declined, authenticated or not), confirming an
off-session charge from the link emailed to the owner (completed or failed), the card
page in English. Screenshots of both pages, desktop and phone, in artifacts/."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing import services
from invoices import selectors as invoice_selectors
from invoices.models import Charge, ChargeStatus, Invoice, InvoiceStatus
from subscriptions.models import PaymentMethod, PendingChange, PendingChangeState, Subscription
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, VISA_OK, MembershipFactory, UserFactory, price_id, save_card
from tests.factories.subscriptions import VISA_3DS
from workspaces.models import Membership, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
VISA_REFUSED = "4000000000000002"  # refused when saved (Stripe's test card)
#: The offline Stripe.js's 3-D Secure modal.
COMPLETE = "Complete authentication"
FAIL = "Fail authentication"


@pytest.fixture
def acme_owner() -> Membership:
    """Acme on Free, no card on file; its owner signs in as owner@acme.test."""
    owner = MembershipFactory(
        role=Role.OWNER, workspace__name="Acme", user=UserFactory(email="owner@acme.test")
    )
    services.subscription_start_free(workspace=owner.workspace, now=timezone.now())
    # Another tenant, whose data must never show up.
    other = MembershipFactory(role=Role.OWNER, workspace__name="Other Corp")
    services.subscription_start_free(workspace=other.workspace, now=timezone.now())
    return owner


def _card_page(workspace) -> str:
    return reverse("stripe_card_setup", args=[workspace.pk])


def _billing_page(workspace) -> str:
    return reverse("subscription_billing", args=[workspace.pk])


def _signed_in(page, owner: Membership) -> None:
    sign_in(page, owner.user.email, PASSWORD)
    page.wait_for_url(f"**/{owner.workspace.pk}/workspace/")


def _fill_card(page, number: str, month: str = "12", year: str = "34", cvc: str = "123") -> None:
    """Type into the stand-in card element (plain inputs named by their placeholder)."""
    element = page.locator("#card-element")
    element.get_by_placeholder("number", exact=True).fill(number)
    element.get_by_placeholder("exp_month", exact=True).fill(month)
    element.get_by_placeholder("exp_year", exact=True).fill(year)
    element.get_by_placeholder("cvc", exact=True).fill(cvc)
    element.get_by_placeholder("postal_code", exact=True).fill("75001")


def _flash(page, text: str):
    message = page.locator(".messages .message", has_text=text)
    message.wait_for()
    return message


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


# --- Saving a card ------------------------------------------------------------------------------


def test_a_good_card_is_saved_and_shown(page, screenshot, acme_owner):
    workspace = acme_owner.workspace
    _signed_in(page, acme_owner)
    page.goto(_card_page(workspace))
    assert page.locator("h1").inner_text() == "Paiement sécurisé"
    assert page.get_by_test_id("current-card").count() == 0
    # The stand-in Stripe.js mounted its inputs into the card element.
    page.locator("#card-element").get_by_placeholder("number", exact=True).wait_for()
    _fill_card(page, VISA_OK)
    page.get_by_role("button", name="Enregistrer la carte").click()

    page.wait_for_url(f"**{_billing_page(workspace)}")
    _flash(page, "Méthode de paiement enregistrée : Visa se terminant par 4242.")
    method = PaymentMethod.objects.get(workspace=workspace, is_default=True)
    assert method.card_token.startswith("pm_")
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == ("Visa", "4242", 12, 2034)
    assert PaymentMethod.objects.filter(workspace=workspace).count() == 1

    page.goto(_card_page(workspace))
    current = page.get_by_test_id("current-card").inner_text()
    assert current == "Carte actuelle : Visa se terminant par 4242, expire fin 12/2034."
    screenshot("stripe-card-desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    page.locator("#card-element").get_by_placeholder("number", exact=True).wait_for()
    screenshot("stripe-card-phone")
    assert _overflow(page) <= 0, f"the card page overflows the phone screen by {_overflow(page)}px"


def test_update_the_payment_from_the_overview_comes_back_to_it(page, acme_owner):
    workspace = acme_owner.workspace
    _signed_in(page, acme_owner)
    overview = reverse("subscription_overview", args=[workspace.pk])
    page.goto(overview)
    page.get_by_role("button", name="Mettre à jour le paiement").click()
    page.wait_for_url(re.compile(re.escape(_card_page(workspace)) + r"\?next="))
    _fill_card(page, VISA_OK)
    page.get_by_role("button", name="Enregistrer la carte").click()
    page.wait_for_url(f"**{overview}")
    _flash(page, "Méthode de paiement enregistrée : Visa se terminant par 4242.")
    card = " ".join(page.locator(".payment-method").inner_text().split())
    assert card.startswith("Visa •••• 4242")
    assert "12/2034" in card


def test_a_refused_card_stays_on_the_page_with_the_reason(page, acme_owner):
    workspace = acme_owner.workspace
    _signed_in(page, acme_owner)
    page.goto(_card_page(workspace))
    _fill_card(page, VISA_REFUSED)
    button = page.get_by_role("button", name="Enregistrer la carte")
    button.click()

    errors = page.locator("#card-errors")
    errors.get_by_text("La carte a été refusée.", exact=True).wait_for()
    assert page.url.endswith(_card_page(workspace))
    assert button.is_enabled()
    assert page.locator(".messages").count() == 0
    assert not PaymentMethod.objects.filter(workspace=workspace).exists()

    # A corrected card on the same page goes through.
    _fill_card(page, VISA_OK)
    button.click()
    page.wait_for_url(f"**{_billing_page(workspace)}")
    _flash(page, "Méthode de paiement enregistrée : Visa se terminant par 4242.")
    assert PaymentMethod.objects.get(workspace=workspace, is_default=True).last4 == "4242"


def test_a_card_asking_for_authentication_is_saved_once_authenticated(page, screenshot, acme_owner):
    workspace = acme_owner.workspace
    _signed_in(page, acme_owner)
    page.goto(_card_page(workspace))
    _fill_card(page, VISA_3DS)
    page.get_by_role("button", name="Enregistrer la carte").click()
    page.get_by_role("button", name=COMPLETE).wait_for()
    assert not PaymentMethod.objects.filter(workspace=workspace).exists()
    screenshot("stripe-card-3ds-modal-desktop")
    page.get_by_role("button", name=COMPLETE).click()

    page.wait_for_url(f"**{_billing_page(workspace)}")
    _flash(page, "Méthode de paiement enregistrée : Visa se terminant par 3184.")
    method = PaymentMethod.objects.get(workspace=workspace, is_default=True)
    assert method.card_token.startswith("pm_")
    assert method.last4 == "3184"


def test_a_card_whose_authentication_fails_is_not_saved(page, screenshot, acme_owner):
    workspace = acme_owner.workspace
    _signed_in(page, acme_owner)
    page.goto(_card_page(workspace))
    _fill_card(page, VISA_3DS)
    button = page.get_by_role("button", name="Enregistrer la carte")
    button.click()
    page.get_by_role("button", name=FAIL).click()

    errors = page.locator("#card-errors")
    page.wait_for_function("document.getElementById('card-errors').textContent.trim() !== ''")
    assert errors.inner_text().strip() == (
        "La carte n'a pas pu être enregistrée : elle n'a pas été confirmée auprès de votre banque. "
        "Vérifiez ses informations et réessayez."
    )
    assert page.url.endswith(_card_page(workspace))
    assert button.is_enabled()
    assert page.get_by_role("button", name=COMPLETE).count() == 0
    assert not PaymentMethod.objects.filter(workspace=workspace).exists()
    screenshot("stripe-card-3ds-failed-desktop")


# --- Confirming a charge from the emailed link ----------------------------------------------------


@pytest.fixture
def waiting_purchase(acme_owner):
    """Acme, the 3-D Secure card on file, subscribes to Pro: the charge asks for the bank's
    confirmation, the change waits for it and the owner is emailed the link."""
    workspace = acme_owner.workspace
    save_card(workspace, acme_owner, VISA_3DS, now=timezone.now())
    now = timezone.now()
    pro = price_id("pro")
    preview = services.preview_subscribe(workspace=workspace, price_id=pro, now=now)
    result = services.apply_subscribe(
        workspace=workspace, actor=acme_owner, price_id=pro, preview=preview, now=now
    )
    assert result.payment.requires_action
    invoice = result.invoice
    assert Charge.objects.get(invoice=invoice).status == ChargeStatus.REQUIRES_ACTION
    assert Subscription.objects.get(workspace=workspace).plan.code == "free"
    [email] = mail.outbox
    assert email.to == ["owner@acme.test"]
    assert invoice.number in email.body
    links = re.findall(r"https?://\S+/authenticate/", email.body)
    assert len(links) == 1, email.body
    path = urlsplit(links[0]).path
    assert path == reverse("stripe_charge_authenticate", args=[workspace.pk, invoice.pk])
    return {"workspace": workspace, "invoice": invoice, "path": path}


def _open_the_emailed_link(page, purchase) -> None:
    page.goto(purchase["path"])
    assert page.locator("h1").inner_text() == "Confirmer le paiement"


def test_a_charge_confirmed_from_the_emailed_link_is_paid(page, screenshot, acme_owner, waiting_purchase):
    workspace, invoice = waiting_purchase["workspace"], waiting_purchase["invoice"]
    billing = _billing_page(workspace)
    # The billing page offers the same confirmation on the invoice.
    _signed_in(page, acme_owner)
    page.goto(billing)
    row = page.locator("#invoices-card tr", has_text=invoice.number)
    assert row.locator(f"a[href='{waiting_purchase['path']}']").is_visible()

    _open_the_emailed_link(page, waiting_purchase)
    text = " ".join(page.locator("section.card").inner_text().split())
    assert f"Votre banque demande de confirmer le paiement de la facture {invoice.number} : 15,59" in text
    assert "Sans confirmation avant le" in text  # the change waits at most 23 hours
    screenshot("stripe-authenticate-desktop")
    page.get_by_role("button", name="Confirmer le paiement").click()
    page.get_by_role("button", name=COMPLETE).wait_for()
    screenshot("stripe-authenticate-modal-desktop")
    page.get_by_role("button", name=COMPLETE).click()

    page.wait_for_url(f"**{billing}")
    _flash(page, f"La facture {invoice.number} est payée.")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert Subscription.objects.get(workspace=workspace).plan.code == "pro"
    assert PendingChange.objects.get(invoice=invoice).state == PendingChangeState.APPLIED
    assert Charge.objects.get(invoice=invoice).status == ChargeStatus.SUCCEEDED
    assert page.locator(f"a[href='{waiting_purchase['path']}']").count() == 0
    screenshot("stripe-authenticate-paid-billing-desktop")

    # The link, opened again, has nothing left to confirm.
    page.set_viewport_size(PHONE)
    _open_the_emailed_link(page, waiting_purchase)
    page.get_by_text(f"La facture {invoice.number} n'attend pas de confirmation.").wait_for()
    assert page.get_by_role("button", name="Confirmer le paiement").count() == 0
    screenshot("stripe-authenticate-paid-phone")


def test_a_charge_whose_authentication_fails_changes_nothing(page, screenshot, acme_owner, waiting_purchase):
    workspace, invoice = waiting_purchase["workspace"], waiting_purchase["invoice"]
    _signed_in(page, acme_owner)
    _open_the_emailed_link(page, waiting_purchase)
    page.get_by_role("button", name="Confirmer le paiement").click()
    page.get_by_role("button", name=FAIL).click()

    page.wait_for_url(f"**{_billing_page(workspace)}")
    _flash(page, "Le paiement n'a pas été authentifié. Rien n'a été débité.")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID
    assert Subscription.objects.get(workspace=workspace).plan.code == "free"
    assert PendingChange.objects.get(invoice=invoice).state == PendingChangeState.LAPSED
    assert Charge.objects.get(invoice=invoice).status == ChargeStatus.FAILED
    # The credit note cancelling the unpaid invoice puts nothing on the account balance.
    credit_note = Invoice.objects.get(workspace=workspace, corrects=invoice)
    assert credit_note.total_cents == -invoice.total_cents
    assert invoice_selectors.account_balance_cents(workspace) == 0
    screenshot("stripe-authenticate-failed-desktop")


# --- English ----------------------------------------------------------------------------------------


def test_the_card_page_in_english(page, acme_owner):
    workspace = acme_owner.workspace
    _signed_in(page, acme_owner)
    page.goto(_card_page(workspace))
    page.locator("select[name=language]").select_option("en")
    page.wait_for_url(f"**{_card_page(workspace)}")
    page.get_by_role("button", name="Save the card").wait_for()
    assert page.locator("h1").inner_text() == "Secure payment"
    assert page.locator("#card-form").get_attribute("data-locale") == "en"
    assert page.locator("#card-form").get_attribute("data-declined") == "The card was declined."
    # The choice sticks across a reload.
    page.reload()
    page.get_by_role("button", name="Save the card").wait_for()
