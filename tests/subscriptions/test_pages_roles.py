"""What each role sees of the subscription pages (seed 001)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from tests.subscriptions.test_pages_support import (
    get,
    text,
    url,
)
from workspaces.models import Role
from workspaces.permissions import REFUSAL_MESSAGES, Capability

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_now(pages_at_now):
    """Every test of this module runs at ``NOW``."""


# --- Roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_see_everything(client, acme, role):
    page = text(get(client, acme[role], "subscription_overview"))
    for label in (
        "Mettre à niveau mon plan",
        "Modifier le plan",
        "Personnaliser le plan",
        "Mettre à jour le paiement",
        "Visa •••• 4242",
        "80,61 %",
        "Passer à la facturation annuelle",
        "Facturation",
    ):
        assert label in page


def test_billing_admin_sees_billing_but_no_button_that_changes_anything(client, acme):
    membership = acme["billing_admin"]
    workspace = membership.workspace
    response = get(client, membership, "subscription_overview")
    page, body = text(response), response.content.decode()
    assert "Visa •••• 4242" in page
    assert "80,61 %" in page
    assert "Économisez 468,00 € par an" in page
    for button in (
        "Mettre à niveau mon plan",
        "Modifier le plan",
        "Personnaliser le plan",
        "Mettre à jour le paiement",
    ):
        assert button not in page
    assert reverse("subscription_annual", args=[workspace.pk]) not in body
    assert get(client, membership, "subscription_billing").status_code == 200
    settings_page = text(get(client, membership, "subscription_settings"))
    assert "Annuler mon abonnement" not in settings_page
    assert "Seuls le propriétaire et les administrateurs" in settings_page
    refused = get(client, membership, "subscription_customize")
    assert refused.status_code == 403
    with translation.override("fr"):
        assert str(REFUSAL_MESSAGES[Capability.MANAGE_BILLING]) in text(refused)


def test_member_sees_a_read_only_overview(client, acme):
    membership = acme["member"]
    response = get(client, membership, "subscription_overview")
    assert response.status_code == 200
    page, body = text(response), response.content.decode()
    assert "Team Starter" in page
    assert "Prix 159,00 € /mois" in page
    assert "5 sur 10 UTILISATEURS" in page
    # No balance, no payment method, no invoices, no button that changes anything.
    for hidden in (
        "Crédits restants",
        "80,61 %",
        "Méthode de paiement",
        "Visa",
        "Utilisation quotidienne des crédits",
        "Mettre à niveau mon plan",
        "Modifier le plan",
        "Personnaliser le plan",
        "Mettre à jour le paiement",
        "Passer à la facturation annuelle",
        "280,80 €",
    ):
        assert hidden not in page, hidden
    assert reverse("subscription_billing", args=[membership.workspace_id]) not in body
    assert "<form" not in body.split('id="content"')[1].split("language-switch")[0]
    assert get(client, membership, "subscription_billing").status_code == 403
    assert get(client, membership, "subscription_credits").status_code == 403
    assert get(client, membership, "subscription_plans").status_code == 200
    assert "Choisir ce plan" not in text(get(client, membership, "subscription_plans"))
    assert get(client, membership, "subscription_settings").status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "subscription_overview",
        "subscription_billing",
        "subscription_settings",
        "subscription_plans",
        "subscription_customize",
        "subscription_credits",
    ],
)
def test_guest_is_refused(client, acme, name):
    response = get(client, acme["guest"], name)
    assert response.status_code == 403
    assert "Votre rôle" in text(response) or "Seuls" in text(response)


def test_member_of_another_workspace_gets_404(client, acme, other_workspace):
    stranger = other_workspace.memberships.get(role=Role.OWNER)
    client.force_login(stranger.user)
    assert client.get(url("subscription_overview", acme["owner"].workspace)).status_code == 404
