"""The subscription pages, card by card and state by state (seed 001), per role."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from subscriptions.models import CancelReason, PaymentMethod, SubscriptionStatus
from tests.factories import MembershipFactory
from tests.subscriptions.test_pages_support import (
    NOW,
    START,
    add_team,
    bulk_invoices,
    buy_credits,
    gift_credits,
    make_past_due,
    save_card,
    seed_001_workspace,
    set_status,
    subscribe,
    text,
)
from workspaces.models import Role
from workspaces.permissions import REFUSAL_MESSAGES, Capability

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def acme(workspace, other_workspace):
    """Seed 001's workspace, next to another tenant with its own paid plan and data."""
    team = seed_001_workspace(workspace)
    save_card(other_workspace, "5555555555554444")
    subscribe(other_workspace, "business", extra_seats=0)
    bulk_invoices(other_workspace, 3)
    buy_credits(other_workspace, credits=7_000_000, paid_cents=3_500, when=START, source="other:1")
    return team


def url(name, workspace, **query):
    path = reverse(name, args=[workspace.pk])
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


def get(client, membership, name, **query):
    client.force_login(membership.user)
    return client.get(url(name, membership.workspace, **query))


# --- Overview ------------------------------------------------------------------------------


def test_overview_shows_every_card_of_seed_001_to_the_owner(client, acme):
    response = get(client, acme["owner"], "subscription_overview")

    assert response.status_code == 200
    page = text(response)
    # Header and tabs
    assert "Gérer l'abonnement" in page
    assert "Gérez votre abonnement et vos ressources" in page
    assert "Mettre à niveau mon plan" in page
    assert "Aperçu" in page
    assert "Facturation" in page
    assert "Paramètres" in page
    # Subscription card
    assert "Team Starter" in page
    assert "Modifier le plan" in page
    assert "Période actuelle 2 oct. 2025 - 2 nov. 2025" in page
    # 159 € + 5 extra seats × 15 € = 234 € excl. VAT, 280,80 € with 20 % VAT
    assert "Prochaine facturation 2 nov. 2025 · 280,80 €" in page
    assert "Prix 159,00 € /mois" in page
    assert "Visa •••• 4242 expire 12/2030" in page
    assert "Mettre à jour le paiement" in page
    assert "Renouvellement automatique Actif" in page
    assert "Essai actif" not in page
    # Customization card
    assert "Personnalisation du plan" in page
    assert "Personnaliser le plan" in page
    assert "5 sièges supplémentaires · 75,00 € /mois" in page
    assert "Vous n'avez pas de crédits supplémentaires" not in page
    # Annual switch: 12 × 234 € = 2 808 € vs 1 590 € + 5 × 150 € = 2 340 € → 468 €, 16,67 %
    assert "Passer à la facturation annuelle" in page
    assert "Économisez 17 %" in page
    assert "Économisez 468,00 € par an" in page
    assert "Économies de coûts considérables" in page
    # Credits
    assert "Crédits restants pour l'ensemble de l'espace de travail (mois en cours)" in page
    assert "80,61 %" in page
    assert "22,6 M sur 28 M" in page
    # Users: 5 licences (the guest holds none) of 5 included + 5 extra
    assert "5 sur 10 UTILISATEURS" in page
    assert "50,00 %" in page
    assert "Gérer les utilisateurs" in page
    # Chart
    assert "Utilisation quotidienne des crédits (30 derniers jours)" in page
    body = response.content.decode()
    assert "<svg" in body
    assert "<polyline" in body
    assert 'hx-trigger="every 30s"' in body
    assert reverse("member_list", args=[acme["owner"].workspace_id]) in body


def test_overview_never_shows_the_other_workspace(client, acme, other_workspace):
    page = text(get(client, acme["owner"], "subscription_overview"))
    assert "Business" not in page
    assert "5555" not in page
    assert "Mastercard" not in page


def test_overview_without_extras_says_so(client, workspace, other_workspace):
    add_team(workspace)
    save_card(workspace)
    subscribe(workspace)
    page = text(get(client, workspace.memberships.get(role=Role.OWNER), "subscription_overview"))
    assert "Vous n'avez pas de crédits supplémentaires et de sièges supplémentaires" in page
    assert "5 sur 5 UTILISATEURS" in page
    assert "100,00 %" in page
    # 12 × 159 € − 1 590 € = 318 € (16,67 %)
    assert "Économisez 17 %" in page
    assert "Économisez 318,00 € par an" in page


def test_overview_lists_extra_credits_bought(client, acme):
    buy_credits(acme["owner"].workspace, credits=3_000_000, paid_cents=1_500, when=START, source="invoice:x")
    page = text(get(client, acme["owner"], "subscription_overview"))
    assert "3 000 000 crédits supplémentaires disponibles" in page
    assert "Plus 3 000 000 crédits supplémentaires qui n'expirent jamais." in page


def test_annual_subscription_has_no_annual_switch_and_a_yearly_price(client, workspace, other_workspace):
    add_team(workspace)
    save_card(workspace)
    subscribe(workspace, interval="year")
    page = text(get(client, workspace.memberships.get(role=Role.OWNER), "subscription_overview"))
    assert "Prix 1 590,00 € /an" in page
    assert "Période actuelle 2 oct. 2025 - 2 oct. 2026" in page
    assert "Passer à la facturation annuelle" not in page
    assert "Économisez" not in page


def test_trial_shows_badge_days_left_and_end_date(client, workspace, other_workspace):
    add_team(workspace)
    subscribe(workspace, trial=True)  # Team Starter: 14 days from 2 Oct → 16 Oct
    page = text(get(client, workspace.memberships.get(role=Role.OWNER), "subscription_overview"))
    assert "Essai actif" in page
    assert "4 jours restants" in page
    assert "se termine le 16 oct. 2025" in page
    assert "Prochaine facturation 16 oct. 2025" in page


def test_no_payment_method(client, workspace, other_workspace):
    add_team(workspace)
    subscribe(workspace, trial=True)
    assert not PaymentMethod.objects.filter(workspace=workspace).exists()
    page = text(get(client, workspace.memberships.get(role=Role.OWNER), "subscription_overview"))
    assert "Méthode de paiement Aucune méthode de paiement" in page
    assert "Mettre à jour le paiement" in page


def test_payment_button_posts_to_the_gateway_view_and_back_here(client, acme):
    response = get(client, acme["owner"], "subscription_overview")
    body = response.content.decode()
    workspace = acme["owner"].workspace
    assert f'action="{reverse("subscription_payment_method", args=[workspace.pk])}"' in body
    assert f'name="next" value="{reverse("subscription_overview", args=[workspace.pk])}"' in body


def test_cancelled_subscription(client, acme):
    workspace = acme["owner"].workspace
    set_status(
        workspace, SubscriptionStatus.CANCELED, auto_renew=False, cancel_reason=CancelReason.TOO_EXPENSIVE
    )
    page = text(get(client, acme["owner"], "subscription_overview"))
    assert "Annulé" in page
    assert "Vous conservez l'accès à toutes les fonctionnalités jusqu'au 2 novembre 2025." in page
    assert "Renouvellement automatique Inactif" in page
    assert "Prochaine facturation Aucune" in page
    assert "Passer à la facturation annuelle" not in page

    settings_page = text(get(client, acme["owner"], "subscription_settings"))
    assert "Réactiver l'abonnement" in settings_page
    assert "Annuler mon abonnement" not in settings_page
    assert "Il reste actif jusqu'au 2 novembre 2025" in settings_page


def test_past_due_subscription_asks_for_a_new_payment_method(client, acme):
    make_past_due(acme["owner"].workspace)
    page = text(get(client, acme["owner"], "subscription_overview"))
    assert "Paiement en retard" in page
    assert "Le dernier paiement a échoué. Mettez à jour la méthode de paiement" in page
    assert "Mettre à jour le paiement" in page


def test_free_plan_hides_the_balance(client, workspace, other_workspace):
    from billing import services

    add_team(workspace)
    services.subscription_start_free(workspace=workspace, now=START)
    owner = workspace.memberships.get(role=Role.OWNER)
    page = text(get(client, owner, "subscription_overview"))
    assert "Free" in page
    assert "Prix 0,00 € /mois" in page
    assert "Période actuelle Plan Free, aucune facturation" in page
    assert "Crédits restants" not in page
    assert "Passer à la facturation annuelle" not in page
    assert "Personnaliser le plan" not in page
    assert "Mettre à niveau mon plan" in page
    # Seats are free on Free: up to 50 members
    assert "5 sur 50 UTILISATEURS" in page
    # The polled card goes away on Free.
    credits = get(client, owner, "subscription_credits")
    assert credits.status_code == 200
    assert credits.content == b""

    settings_page = text(get(client, owner, "subscription_settings"))
    assert "Votre espace de travail est sur le plan Free" in settings_page
    assert "Annuler mon abonnement" not in settings_page


def test_workspace_created_before_billing_is_shown_on_free(client, owner):
    """No subscription row yet: the pages describe the Free plan instead of failing."""
    page = text(get(client, owner, "subscription_overview"))
    assert "Plan actuel Free" in page


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


# --- Billing tab -------------------------------------------------------------------------------


def test_billing_tab_lists_invoices_and_credit_purchases(client, acme):
    workspace = acme["owner"].workspace
    gift_credits(workspace, credits=500_000, when=START + timedelta(days=1))
    buy_credits(workspace, credits=3_000_000, paid_cents=1_500, when=START, source="invoice:demo")
    response = get(client, acme["owner"], "subscription_billing")
    assert response.status_code == 200
    page = text(response)
    assert "Factures" in page
    for column in ("Date", "Total de la facture", "Statut", "Action"):
        assert column in page
    # The subscription's first invoice: 280,80 €, paid, with PDF and details links.
    assert "2 oct. 2025" in page
    assert "280,80 €" in page
    assert "Payée" in page
    assert "Télécharger" in page
    assert "Détails" in page
    body = response.content.decode()
    invoice = workspace.invoices.get()
    assert reverse("invoice_pdf", args=[workspace.pk, invoice.pk]) in body
    assert reverse("invoice_detail", args=[workspace.pk, invoice.pk]) in body
    assert reverse("invoices_export_csv", args=[workspace.pk]) in body
    # Credit purchase history
    assert "Historique des achats de crédits" in page
    assert "Quantité" in page
    assert "Montant (€)" in page
    assert "2 oct. 2025 3 000 000 15,00 €" in page
    assert "3 oct. 2025 Gratuit 500 000 0" in page
    assert reverse("subscription_credit_purchases_csv", args=[workspace.pk]) in body
    # Not the other workspace's invoices nor purchases
    assert "INV-2024-" not in page
    assert "7 000 000" not in page


def test_open_invoice_shows_pending(client, acme):
    workspace = acme["owner"].workspace
    bulk_invoices(workspace, 1, status="open")
    page = text(get(client, acme["owner"], "subscription_billing"))
    assert "En attente" in page


def test_billing_tab_without_data(client, workspace, other_workspace):
    add_team(workspace)
    page = text(get(client, workspace.memberships.get(role=Role.OWNER), "subscription_billing"))
    assert page.count("Aucune donnée disponible") == 2


def test_invoices_are_paginated_ten_per_page(client, acme):
    workspace = acme["owner"].workspace
    bulk_invoices(workspace, 14)  # 15 with the subscription's own
    first = get(client, acme["owner"], "subscription_billing")
    assert first.content.decode().count("/pdf/") == 10
    assert "Page 1 sur 2" in text(first)
    assert "Suivant" in text(first)
    second = get(client, acme["owner"], "subscription_billing", invoices_page=2)
    assert second.content.decode().count("/pdf/") == 5
    assert "Précédent" in text(second)
    # htmx asks for the table alone
    client.force_login(acme["owner"].user)
    partial = client.get(
        url("subscription_billing", workspace, invoices_page=2),
        headers={"HX-Request": "true", "HX-Target": "invoices-card"},
    )
    assert partial.content.decode().lstrip().startswith('<section class="card" id="invoices-card"')
    assert "Historique des achats de crédits" not in text(partial)
    # A page number past the end shows the last page.
    assert (
        get(client, acme["owner"], "subscription_billing", invoices_page=99).content.decode().count("/pdf/")
        == 5
    )


def test_credit_purchases_csv(client, acme):
    workspace = acme["owner"].workspace
    buy_credits(workspace, credits=3_000_000, paid_cents=1_500, when=START, source="invoice:csv")
    gift_credits(workspace, credits=500_000, when=START + timedelta(days=1))
    response = get(client, acme["owner"], "subscription_credit_purchases_csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[0] == "date,credits,amount,currency,kind,source"
    assert lines[1].startswith("2025-10-03,500000,0.00,EUR,free")
    assert lines[2] == "2025-10-02,3000000,15.00,EUR,purchased,invoice:csv"
    assert len(lines) == 3  # not the other workspace's purchase
    assert get(client, acme["member"], "subscription_credit_purchases_csv").status_code == 403


def test_credit_purchases_csv_amounts_are_exact_decimals(client, acme):
    """Money never goes through a float: every cent of a large amount survives the export."""
    workspace = acme["owner"].workspace
    buy_credits(
        workspace, credits=1_000_000, paid_cents=9_007_199_254_740_993, when=START, source="invoice:big"
    )
    response = get(client, acme["owner"], "subscription_credit_purchases_csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[1] == "2025-10-02,1000000,90071992547409.93,EUR,purchased,invoice:big"


# --- htmx, history and language ---------------------------------------------------------------


def test_tabs_are_urls_switched_with_htmx(client, acme):
    workspace = acme["owner"].workspace
    full = get(client, acme["owner"], "subscription_settings")
    body = full.content.decode()
    assert "<html" in body
    billing = reverse("subscription_billing", args=[workspace.pk])
    assert f'href="{billing}" hx-get="{billing}" hx-target="#subscription-tabs" hx-push-url="true"' in body

    partial = client.get(billing, headers={"HX-Request": "true", "HX-Target": "subscription-tabs"})
    assert "<html" not in partial.content.decode()
    assert "Factures" in text(partial)
    assert "HX-Request" in partial["Vary"]
    # A history restore (back button after the cache was lost) gets the whole page.
    restore = client.get(billing, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.content.decode()


def test_credits_card_refreshes_alone(client, acme):
    response = get(client, acme["owner"], "subscription_credits")
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card credits-card" id="credits-card"')
    assert 'hx-trigger="every 30s"' in body
    assert "80,61 %" in text(response)


def test_english_is_available(client, acme):
    client.force_login(acme["owner"].user)
    client.cookies["django_language"] = "en"
    response = client.get(url("subscription_overview", acme["owner"].workspace))
    page = text(response)
    assert "Manage the subscription" in page
    assert "€159.00 /month" in page
    assert "Oct 2, 2025 - Nov 2, 2025" in page
    assert "80.61%" in page
    assert "22.6M of 28M" in page
    assert "5 of 10 USERS" in page
    assert "Save €468.00 per year" in page


def test_usage_chart_is_readable_without_usage(client, workspace, other_workspace):
    add_team(workspace)
    save_card(workspace)
    subscribe(workspace)
    response = get(client, workspace.memberships.get(role=Role.OWNER), "subscription_overview")
    page = text(response)
    assert "Aucun crédit utilisé au cours des 30 derniers jours." in page
    assert "100,00 %" in page  # all 28 M left
    assert "28 M sur 28 M" in page


def test_usage_chart_points_have_a_value_on_hover(client, acme):
    body = get(client, acme["owner"], "subscription_overview").content.decode()
    # 5 430 000 credits over 5 days: 1 086 000 a day
    assert "<title>11 oct. 2025 : 1\u202f086\u202f000 crédits</title>" in body


def test_members_count_follows_the_team(client, acme):
    MembershipFactory(workspace=acme["owner"].workspace, role=Role.MEMBER)
    page = text(get(client, acme["owner"], "subscription_overview"))
    assert "6 sur 10 UTILISATEURS" in page
    assert "60,00 %" in page


def test_per_seat_plan_counts_every_licence_as_a_seat(client, workspace, other_workspace):
    """Business bills each licensed member: 5 licences are 5 seats in use of 5."""
    team = add_team(workspace)
    save_card(workspace)
    subscribe(workspace, "business")
    page = text(get(client, team["member"], "subscription_overview"))
    assert "5 sur 5 UTILISATEURS" in page
    assert "Prix 20,00 € /mois par siège" in page
