"""The overview page, card by card and state by state (seed 001); tabs, htmx and language."""

from __future__ import annotations

import pytest
from django.urls import reverse

from subscriptions.models import CancelReason, PaymentMethod
from tests.factories import MembershipFactory, subscribe
from tests.subscriptions.test_pages_support import (
    START,
    add_team,
    buy_credits,
    cancel,
    get,
    make_past_due,
    save_card,
    text,
    url,
)
from workspaces.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_now(pages_at_now):
    """Every test of this module runs at ``NOW``."""


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
    # The extras' price is before VAT, the next bill with it: each says so.
    assert "5 sièges supplémentaires · 75,00 € HT /mois" in page
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
    subscribe(workspace, plan="team-starter", now=START)
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
    subscribe(workspace, plan="team-starter", interval="year", now=START)
    page = text(get(client, workspace.memberships.get(role=Role.OWNER), "subscription_overview"))
    assert "Prix 1 590,00 € /an" in page
    assert "Période actuelle 2 oct. 2025 - 2 oct. 2026" in page
    assert "Passer à la facturation annuelle" not in page
    assert "Économisez" not in page


def test_trial_shows_badge_days_left_and_end_date(client, workspace, other_workspace):
    add_team(workspace)
    # Team Starter: 14 days from 2 Oct → 16 Oct
    subscribe(workspace, plan="team-starter", now=START, trial=True)
    page = text(get(client, workspace.memberships.get(role=Role.OWNER), "subscription_overview"))
    assert "Essai actif" in page
    assert "4 jours restants" in page
    assert "se termine le 16 oct. 2025" in page
    assert "Prochaine facturation 16 oct. 2025" in page


def test_no_payment_method(client, workspace, other_workspace):
    add_team(workspace)
    subscribe(workspace, plan="team-starter", now=START, trial=True)
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
    cancel(workspace, CancelReason.TOO_EXPENSIVE)
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
    subscribe(workspace, plan="team-starter", now=START)
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
    subscribe(workspace, plan="business", now=START)
    page = text(get(client, team["member"], "subscription_overview"))
    assert "5 sur 5 UTILISATEURS" in page
    assert "Prix 20,00 € /mois par siège" in page
