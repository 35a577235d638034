"""The AI actions flow in Chromium: run actions (htmx), a failure costs nothing, and
running out of credits opens the modal with the offers."""

from __future__ import annotations

import pytest
from django.utils import timezone

from credits import selectors, services
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from workspaces.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_member_runs_actions_until_the_out_of_credits_modal(page, screenshot):
    member = MembershipFactory(
        role=Role.MEMBER, workspace__name="Acme", user=UserFactory(email="ai@example.test")
    )
    workspace = member.workspace
    MembershipFactory(workspace=workspace, role=Role.OWNER)
    services.allowance_ensure_current(workspace=workspace, now=timezone.now())  # Free: 10 credits

    sign_in(page, "ai@example.test", PASSWORD)
    page.wait_for_url(f"**/{workspace.pk}/workspace/")
    page.locator(".sidebar").get_by_role("link", name="Actions IA").click()
    page.wait_for_selector("h1:has-text('Actions IA')")

    page.get_by_label("Générer un écran de prototype").check()
    page.fill("input[name=quantity]", "1")
    page.get_by_role("button", name="Lancer").click()
    page.wait_for_selector("#ai-result >> text=1 écran de prototype généré.")
    assert selectors.credit_summary(workspace).balance == 5
    screenshot("credits-ai-result")

    page.get_by_label("Résumer un fil de discussions").check()
    page.get_by_label("Simuler un échec de l’IA").check()
    page.get_by_role("button", name="Lancer").click()
    page.wait_for_selector("#ai-result >> text=Aucun crédit consommé.")
    assert selectors.credit_summary(workspace).balance == 5

    page.get_by_label("Simuler un échec de l’IA").uncheck()
    page.get_by_label("Générer un écran de prototype").check()
    page.fill("input[name=quantity]", "2")
    page.get_by_role("button", name="Lancer").click()
    dialog = page.locator("dialog.credits-modal")
    dialog.wait_for(state="visible")
    assert "Vous êtes à court de crédits d’IA" in dialog.inner_text()
    assert "Cette action nécessite 10 crédits." in dialog.inner_text()
    assert "reste" not in dialog.inner_text()  # Free keeps its balance hidden
    # A member cannot buy: told whom to ask, no link to pages they cannot open (the owner's
    # flow: tests/browser/test_out_of_credits_pack_flow.py).
    assert "Seuls le propriétaire et les admins" in dialog.inner_text()
    assert dialog.get_by_role("link").count() == 0
    screenshot("credits-out-of-credits-modal")
    dialog.get_by_role("button", name="Fermer").click()
    dialog.wait_for(state="detached")
    assert selectors.credit_summary(workspace).balance == 5
