"""The subscription pages in Chromium (docs/rules/lifecycle.md): an admin changes plan,
customizes seats and credits, switches to annual, downloads an invoice PDF, cancels with
a reason and reactivates; a member sees the read-only overview; tab URLs survive a
reload and the back button. Screenshots of each tab, desktop and phone, in artifacts/."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from billing import services
from credits.catalog import load_action_catalog
from credits.models import ActionType
from gateways.stripe.test_cards import save_test_card
from invoices.models import Invoice
from subscriptions.catalog import load_demo_catalog
from subscriptions.models import AddOn, Plan, Price, Subscription, SubscriptionStatus
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from workspaces.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _price(plan: str, interval: str = "month") -> int:
    return Price.objects.get(plan__code=plan, interval=interval, currency="EUR", is_active=True).pk


@pytest.fixture
def team():
    """Acme on Business monthly for three days, a Visa on file, five licences."""
    # A transactional test empties the tables afterwards, data migrations included.
    load_demo_catalog(Plan, Price, AddOn)
    load_action_catalog(ActionType)
    owner = MembershipFactory(
        role=Role.OWNER, workspace__name="Acme", user=UserFactory(email="owner@acme.test")
    )
    workspace = owner.workspace
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN, user=UserFactory(email="admin@acme.test"))
    member = MembershipFactory(
        workspace=workspace, role=Role.MEMBER, user=UserFactory(email="member@acme.test")
    )
    MembershipFactory(workspace=workspace, role=Role.BILLING_ADMIN)
    MembershipFactory(workspace=workspace, role=Role.MEMBER)
    started = timezone.now() - timedelta(days=3)
    services.subscription_start_free(workspace=workspace, now=started - timedelta(days=1))
    save_test_card(
        workspace=workspace, actor=owner, number="4242424242424242", exp_month=12, exp_year=2035, now=started
    )
    preview = services.preview_subscribe(workspace=workspace, price_id=_price("business"), now=started)
    services.apply_subscribe(
        workspace=workspace, actor=owner, price_id=_price("business"), preview=preview, now=started
    )
    # A second tenant, with its own invoices, that must never show up.
    other = MembershipFactory(role=Role.OWNER, workspace__name="Other Corp")
    services.subscription_start_free(workspace=other.workspace, now=started)
    return {"workspace": workspace, "admin": admin, "member": member}


def _flash(page, text: str) -> None:
    page.locator(".messages").get_by_text(re.compile(re.escape(text))).wait_for()


def test_admin_manages_the_subscription_end_to_end(page, screenshot, team, tmp_path):
    workspace = team["workspace"]
    base = f"/{workspace.pk}/workspace/subscription/"
    sign_in(page, "admin@acme.test", PASSWORD)
    page.wait_for_url(f"**/{workspace.pk}/workspace/")
    page.locator(".sidebar").get_by_role("link", name="Abonnement").click()
    page.wait_for_url(f"**{base}")
    assert page.locator("h1").inner_text() == "Gérer l'abonnement"
    assert page.get_by_text("Business", exact=True).first.is_visible()

    # 1. Change plan: Business → Team Starter, the exact preview first.
    page.get_by_role("link", name="Modifier le plan").click()
    page.wait_for_url(f"**{base}plans/")
    page.locator("article", has=page.get_by_role("heading", name="Team Starter")).get_by_role(
        "button", name="Choisir la facturation mensuelle"
    ).click()
    page.wait_for_url(re.compile(r".*/plans/preview/\?price=\d+"))
    assert "De Business à Team Starter" in page.locator("h1").inner_text()
    assert "jours = " in page.locator(".preview-lines").inner_text()  # quantity × price × days = amount
    assert page.get_by_test_id("total-due-now").inner_text().endswith("€")
    screenshot("subscription-plan-preview-desktop")
    page.get_by_role("button", name="Confirmer").click()
    page.wait_for_url(f"**{base}")
    _flash(page, "Votre plan est maintenant Team Starter.")
    assert Subscription.objects.get(workspace=workspace).plan.code == "team-starter"

    # 2. Customize: 2 extra seats and 3 million credits, with the live summary.
    page.get_by_role("link", name="Personnaliser le plan").click()
    page.wait_for_url(f"**{base}customize/")
    page.fill("input[name=extra_seats]", "2")
    page.fill("input[name=credit_packs]", "3")
    page.locator("#customize-summary").get_by_text("packs de 1 000 000 crédits", exact=False).wait_for()
    page.locator("#customize-summary").get_by_text(
        "Team Starter, sièges supplémentaires", exact=False
    ).wait_for()
    screenshot("subscription-customize-desktop")
    page.locator("#customize-summary").get_by_role("button", name="Confirmer").click()
    page.wait_for_url(f"**{base}")
    _flash(page, "Votre plan a été personnalisé.")
    assert Subscription.objects.get(workspace=workspace).extra_seats == 2

    # 3. Switch to annual in the modal.
    page.locator(".annual").get_by_role("link", name="Passer à la facturation annuelle").click()
    dialog = page.locator("dialog#annual-modal")
    dialog.wait_for()
    assert dialog.evaluate("d => d.open")
    assert "irréversible jusqu'à la fin de la période" in dialog.inner_text()
    assert "Total dû maintenant" in dialog.inner_text()
    screenshot("subscription-annual-modal-desktop")
    dialog.get_by_role("button", name="Confirmer le passage à la facturation annuelle").click()
    dialog.wait_for(state="detached")
    _flash(page, "Votre abonnement est désormais facturé annuellement.")
    assert page.locator(".annual").count() == 0
    assert "/an" in page.locator(".sub-card--plan").inner_text()
    assert Subscription.objects.get(workspace=workspace).price.interval == "year"
    screenshot("subscription-overview-desktop")

    # 4. Billing tab (pushed URL, survives a reload), download an invoice PDF.
    page.locator(".tabs").get_by_role("link", name="Facturation").click()
    page.wait_for_url(f"**{base}billing/")
    page.get_by_role("heading", name="Factures").wait_for()
    page.reload()
    assert page.locator(".tab.is-active").inner_text() == "Facturation"
    screenshot("subscription-billing-desktop")
    first = Invoice.objects.filter(workspace=workspace).order_by("issued_at", "id").first()
    row = page.locator("#invoices-card tr", has=page.get_by_text(first.number))
    with page.expect_download() as download_info:
        row.get_by_role("link", name="Télécharger").click()
    pdf = tmp_path / "invoice.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    extracted = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert first.number in extracted

    # 5. Settings tab: cancel with a reason, then reactivate.
    page.locator(".tabs").get_by_role("link", name="Paramètres").click()
    page.wait_for_url(f"**{base}settings/")
    page.get_by_role("link", name="Annuler mon abonnement").click()
    dialog = page.locator("dialog#cancel-modal")
    dialog.wait_for()
    dialog.get_by_role("button", name="Confirmer l'annulation").click()
    dialog.get_by_text("Choisissez l'une des raisons d'annulation.").wait_for()
    dialog = page.locator("dialog#cancel-modal")
    assert dialog.evaluate("d => d.open")
    dialog.get_by_label("Coût trop élevé").check()
    screenshot("subscription-cancel-modal-desktop")
    dialog.get_by_role("button", name="Confirmer l'annulation").click()
    dialog.wait_for(state="detached")
    _flash(page, "Votre abonnement est annulé.")
    page.get_by_role("button", name="Réactiver l'abonnement").wait_for()
    assert "Il reste actif jusqu'au" in page.locator("#cancel-card").inner_text()
    subscription = Subscription.objects.get(workspace=workspace)
    assert subscription.status == SubscriptionStatus.CANCELED
    assert subscription.cancel_reason == "too_expensive"
    screenshot("subscription-settings-cancelled-desktop")
    page.get_by_role("button", name="Réactiver l'abonnement").click()
    page.wait_for_url(f"**{base}settings/")
    _flash(page, "Votre abonnement est réactivé.")
    page.get_by_role("link", name="Annuler mon abonnement").wait_for()
    assert Subscription.objects.get(workspace=workspace).status == SubscriptionStatus.ACTIVE
    screenshot("subscription-settings-desktop")

    # 6. Back button: the tabs are history entries.
    page.locator(".tabs").get_by_role("link", name="Aperçu").click()
    page.wait_for_url(f"**{base}")
    page.go_back()
    page.wait_for_url(f"**{base}settings/")
    page.get_by_role("heading", name="Annulation de l'abonnement").wait_for()

    # 7. The same tabs on a phone.
    page.set_viewport_size(PHONE)
    for tab, name in (("", "overview"), ("billing/", "billing"), ("settings/", "settings")):
        page.goto(base + tab)
        page.locator(".tab.is-active").wait_for()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} overflows the phone screen by {overflow}px"
        screenshot(f"subscription-{name}-phone")
    page.goto(base + "plans/")
    screenshot("subscription-plans-phone")
    page.goto(base + "customize/")
    screenshot("subscription-customize-phone")
    assert Path(ARTIFACTS / "subscription-overview-phone.png").exists()


def test_member_sees_a_read_only_overview(page, screenshot, team):
    workspace = team["workspace"]
    base = f"/{workspace.pk}/workspace/subscription/"
    sign_in(page, "member@acme.test", PASSWORD)
    page.wait_for_url(f"**/{workspace.pk}/workspace/")
    page.goto(base)
    assert page.locator("h1").inner_text() == "Gérer l'abonnement"
    content = page.locator("#content").inner_text()
    assert "Business" in content
    assert "sur" in content
    assert "UTILISATEURS" in content
    for hidden in (
        "Modifier le plan",
        "Mettre à niveau mon plan",
        "Personnaliser le plan",
        "Crédits restants",
        "Visa",
    ):
        assert hidden not in content
    assert page.locator(".tabs a").all_inner_texts() == ["Aperçu", "Paramètres"]
    screenshot("subscription-overview-member-desktop")
    response = page.goto(base + "billing/")
    assert response.status == 403
    page.set_viewport_size(PHONE)
    page.goto(base)
    screenshot("subscription-overview-member-phone")


def test_tab_urls_survive_a_reload_in_english(page, screenshot, team):
    workspace = team["workspace"]
    base = f"/{workspace.pk}/workspace/subscription/"
    sign_in(page, "admin@acme.test", PASSWORD)
    page.wait_for_url(f"**/{workspace.pk}/workspace/")
    page.goto(base + "settings/")
    page.locator(".sidebar select[name=language]").select_option("en")
    page.wait_for_url(f"**{base}settings/")
    page.get_by_role("heading", name="Subscription cancellation").wait_for()
    page.locator(".tabs").get_by_role("link", name="Overview").click()
    page.wait_for_url(f"**{base}")
    page.reload()
    assert page.locator("h1").inner_text() == "Manage the subscription"
    assert "€20.00 /month per seat" in " ".join(page.locator(".sub-card--plan").inner_text().split())
    screenshot("subscription-overview-en-desktop")
