"""Out of credits on Free, in Chromium: the modal keeps the balance hidden, its "Acheter
des crédits supplémentaires" opens the customization page with one pack, the owner pays
it with the card on file, and the action that was refused then runs
(docs/rules/credits.md#out-of-credits, docs/rules/plans.md#extra-credits)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from billing import services as billing_services
from credits import selectors, services
from credits.models import CreditGrant
from invoices.models import Invoice
from subscriptions.models import SubscriptionAddOn
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory, save_card, subscribe
from workspaces.models import Role

# Not serialized_rollback: its flush restarts the invoice ids, and the offline Stripe would
# refuse a charge key (invoice:<id>:attempt:1) an earlier test used for another amount.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_out_of_credits_on_free_buy_a_pack_then_the_action_runs(page, screenshot):
    owner = MembershipFactory(
        role=Role.OWNER, workspace__name="Acme", user=UserFactory(email="owner@example.test")
    )
    workspace = owner.workspace
    now = timezone.now()
    billing_services.subscription_start_free(workspace=workspace, now=now)
    services.allowance_ensure_current(workspace=workspace, now=now)  # Free: 10 credits
    save_card(workspace, owner, now=now)
    services.credits_consume(
        workspace=workspace, actor=owner, action="summarize", quantity=10, idempotency_key="used-up"
    )

    sign_in(page, "owner@example.test", PASSWORD)
    page.wait_for_url(f"**/{workspace.pk}/workspace/")
    page.goto(f"/{workspace.pk}/workspace/ai/")
    page.get_by_label("Résumer un fil de discussions").check()
    page.fill("input[name=quantity]", "1")
    page.get_by_role("button", name="Lancer").click()

    dialog = page.locator("dialog.credits-modal")
    dialog.wait_for(state="visible")
    assert "Cette action nécessite 1 crédit." in dialog.inner_text()
    assert "reste" not in dialog.inner_text()
    screenshot("out-of-credits-free-modal")
    dialog.get_by_role("link", name="Acheter des crédits supplémentaires").click()

    page.wait_for_url(f"**/{workspace.pk}/workspace/subscription/customize/?credit_packs=1*")
    summary = page.locator("#customize-summary")
    summary.get_by_text("Total dû maintenant").wait_for()
    assert "1 × 5,00\u00a0€ = 5,00\u00a0€" in summary.inner_text()
    assert "6,00\u00a0€" in page.get_by_test_id("total-due-now").inner_text()
    screenshot("out-of-credits-free-pack")
    summary.get_by_role("button", name="Confirmer").click()

    page.wait_for_url(f"**/{workspace.pk}/workspace/subscription/")
    assert Invoice.objects.get(workspace=workspace, billing_reason="customization").status == "paid"
    assert CreditGrant.objects.get(workspace=workspace, bucket="purchased").amount == 1_000

    page.goto(f"/{workspace.pk}/workspace/ai/")
    page.get_by_label("Résumer un fil de discussions").check()
    page.fill("input[name=quantity]", "1")
    page.get_by_role("button", name="Lancer").click()
    page.wait_for_selector("#ai-result >> text=1 crédit consommé.")
    assert page.locator("dialog.credits-modal").count() == 0
    assert selectors.credit_summary(workspace).balance == 999
    screenshot("out-of-credits-free-action-runs")


def test_the_owner_adds_the_ai_credits_add_on_from_the_customization_page(page):
    owner = MembershipFactory(
        role=Role.OWNER, workspace__name="Acme", user=UserFactory(email="ts@example.test")
    )
    workspace = owner.workspace
    now = timezone.now()
    save_card(workspace, owner, now=now)
    subscribe(workspace, owner, "team-starter", now=now)

    sign_in(page, "ts@example.test", PASSWORD)
    page.wait_for_url(f"**/{workspace.pk}/workspace/")
    page.goto(f"/{workspace.pk}/workspace/subscription/customize/")
    page.get_by_label("Module complémentaire AI credits").fill("1")

    summary = page.locator("#customize-summary")
    # The live summary (htmx) prices the add-on for the rest of the period, and says what changes.
    summary.get_by_text("Module complémentaire AI credits : 0 → 1").wait_for()
    # Subscribed today: the whole period is left, 10,00 € + VAT 2,00 €.
    assert "Module complémentaire AI credits\n1 × 10,00\u00a0€" in summary.inner_text()
    assert "12,00\u00a0€" in page.get_by_test_id("total-due-now").inner_text()
    summary.get_by_role("button", name="Confirmer").click()

    page.wait_for_url(f"**/{workspace.pk}/workspace/subscription/")
    assert "Module complémentaire AI credits ajouté." in page.inner_text("body")
    row = SubscriptionAddOn.objects.get(subscription__workspace=workspace)
    assert (row.addon.code, row.quantity) == ("ai-credits", 1)
