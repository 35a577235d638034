"""What the subscription pages change: plan, customization, annual switch, cancellation,
reactivation. Every money-moving POST is CSRF-protected, permission-checked, confirms the
exact preview and is idempotent on double submit."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import translation

from billing import services
from invoices.models import Invoice
from subscriptions import errors
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionStatus
from tests.factories import price_id, subscribe
from tests.subscriptions.test_pages_support import (
    NOW,
    START,
    add_team,
    save_card,
    seed_001_workspace,
    text,
)
from workspaces.models import Role

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _at_now(pages_at_now):
    """Every test of this module runs at ``NOW``."""


@pytest.fixture
def acme(workspace, other_workspace):
    team = seed_001_workspace(workspace)
    save_card(other_workspace)
    subscribe(other_workspace, plan="business", now=START)
    return team


@pytest.fixture
def business(workspace, other_workspace):
    """Business monthly (20 € per seat) for 5 licences, a card on file."""
    team = add_team(workspace)
    save_card(workspace)
    subscribe(workspace, plan="business", now=START)
    save_card(other_workspace)
    subscribe(other_workspace, plan="business", now=START)
    return team


def url(name, workspace):
    return reverse(name, args=[workspace.pk])


def hidden(body: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', body)
    assert match, f"no hidden {name}"
    return match.group(1)


def flashes(response) -> list[str]:
    """The flash messages of a redirect, with CLDR's no-break spaces made plain."""
    return [str(m).replace("\u00a0", " ").replace("\u202f", " ") for m in get_messages(response.wsgi_request)]


def shown(client, response, message: str) -> None:
    """Follow the redirect, as the browser does: the flash message is displayed (then gone)."""
    assert message in text(client.get(response["Location"]))


def subscription(workspace) -> Subscription:
    return Subscription.objects.select_related("plan", "price").get(workspace=workspace)


def state(workspace):
    sub = subscription(workspace)
    return (
        sub.plan.code,
        sub.price.interval,
        sub.status,
        sub.extra_seats,
        sub.auto_renew,
        Invoice.objects.filter(workspace=workspace).count(),
        SubscriptionEvent.objects.filter(workspace=workspace).count(),
    )


# --- plan change --------------------------------------------------------------------------------


def test_plan_change_shows_the_exact_preview_then_confirms_once(client, business, other_workspace):
    workspace = business["owner"].workspace
    other_before = state(other_workspace)
    client.force_login(business["admin"].user)
    enterprise = price_id("enterprise")
    expected = services.preview_change_plan(workspace=workspace, price_id=enterprise)

    plans = client.get(url("subscription_plans", workspace))
    assert "Plan actuel" in text(plans)
    assert f'name="price" value="{enterprise}"' in plans.content.decode()

    response = client.get(url("subscription_plan_preview", workspace), {"price": enterprise})
    assert response.status_code == 200
    page = text(response)
    assert "De Business à Enterprise" in page
    # The engine's prorated lines, their words in French: 21 of the 31 days of October left.
    assert "Forfait Enterprise, reste de la période 1 × 200,00 € × 21/31 jours = 135,48 €" in page
    assert "Temps non utilisé sur Business -1 × 100,00 € × 21/31 jours = -67,74 €" in page
    # 200,00 € × 21/31 = 135,483… → 135,48 €; 100,00 € × 21/31 = 67,741… → 67,74 € back;
    # 67,74 € + VAT 13,548 € → 13,55 € = 81,29 €
    assert "Total dû maintenant 81,29 €" in page
    assert expected.total_due_now_cents == 8_129
    assert "Prochain renouvellement 2 nov. 2025" in page
    body = response.content.decode()
    assert hidden(body, "fingerprint") == expected.fingerprint
    form = {"price": enterprise, "fingerprint": expected.fingerprint, "token": hidden(body, "token")}

    confirmed = client.post(url("subscription_plan_confirm", workspace), form)
    assert confirmed.status_code == 302
    assert confirmed["Location"] == url("subscription_overview", workspace)
    [message] = flashes(confirmed)
    assert message.startswith("Votre plan est maintenant Enterprise.")
    assert "payés" in message
    after = state(workspace)
    assert after[0] == "enterprise"
    shown(client, confirmed, message)

    # The same form submitted again (double click, reload): the same result, nothing more.
    again = client.post(url("subscription_plan_confirm", workspace), form)
    assert again.status_code == 302
    assert flashes(again) == [message]
    assert state(workspace) == after
    assert state(other_workspace) == other_before


def test_a_stale_preview_is_refused_and_shown_again(client, business):
    workspace = business["owner"].workspace
    before = state(workspace)
    client.force_login(business["owner"].user)
    response = client.post(
        url("subscription_plan_confirm", workspace),
        {"price": price_id("enterprise"), "fingerprint": "0" * 32, "token": "t-stale"},
    )
    assert response.status_code == 409
    with translation.override("fr"):
        assert str(errors.StalePreview.message) in text(response)
    assert (
        hidden(response.content.decode(), "fingerprint")
        == services.preview_change_plan(workspace=workspace, price_id=price_id("enterprise")).fingerprint
    )
    assert state(workspace) == before


def test_plan_preview_refuses_bad_input_and_changes_nothing(client, business):
    workspace = business["owner"].workspace
    before = state(workspace)
    client.force_login(business["owner"].user)
    assert client.get(url("subscription_plan_preview", workspace)).status_code == 200  # the plan list
    unknown = client.get(url("subscription_plan_preview", workspace), {"price": 999_999})
    assert unknown.status_code == 400
    with translation.override("fr"):
        assert str(errors.UnknownPlan.message) in text(unknown)
    same = client.get(url("subscription_plan_preview", workspace), {"price": price_id("business")})
    assert same.status_code == 400
    assert client.post(url("subscription_plan_confirm", workspace), {"price": "x"}).status_code == 400
    assert state(workspace) == before


def test_subscribing_from_free_and_starting_a_trial(client, workspace, other_workspace):
    team = add_team(workspace)
    services.subscription_start_free(workspace=workspace, now=NOW)
    client.force_login(team["owner"].user)
    plans = text(client.get(url("subscription_plans", workspace)))
    assert "Commencer l'essai gratuit" in plans
    preview = client.get(
        url("subscription_plan_preview", workspace), {"price": price_id("pro"), "trial": "1"}
    )
    assert preview.status_code == 200
    assert "S'abonner à Pro" in text(preview)
    assert "Votre essai gratuit se termine le 19 oct. 2025" in text(preview)
    body = preview.content.decode()
    response = client.post(
        url("subscription_plan_confirm", workspace),
        {
            "price": price_id("pro"),
            "trial": "True",
            "fingerprint": hidden(body, "fingerprint"),
            "token": hidden(body, "token"),
        },
    )
    assert response.status_code == 302
    assert flashes(response) == ["Votre essai gratuit de Pro a commencé. Il se termine le 19 oct. 2025."]
    assert subscription(workspace).status == SubscriptionStatus.TRIALING


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER])
def test_only_owners_and_admins_move_money(client, business, role):
    workspace = business["owner"].workspace
    before = state(workspace)
    membership = business["billing_admin" if role == Role.BILLING_ADMIN else "member"]
    client.force_login(membership.user)
    fingerprint = services.preview_change_plan(
        workspace=workspace, price_id=price_id("enterprise")
    ).fingerprint
    posts = [
        ("subscription_plan_confirm", {"price": price_id("enterprise"), "fingerprint": fingerprint}),
        ("subscription_customize", {"extra_seats": 2, "credit_packs": 0}),
        ("subscription_annual", {}),
        ("subscription_cancel", {"reason": "too_expensive"}),
        ("subscription_reactivate", {}),
    ]
    for name, data in posts:
        assert client.post(url(name, workspace), data).status_code == 403, name
    assert (
        client.get(url("subscription_plan_preview", workspace), {"price": price_id("enterprise")}).status_code
        == 403
    )
    assert state(workspace) == before


def test_posts_need_the_csrf_token(business):
    workspace = business["owner"].workspace
    before = state(workspace)
    client = Client(enforce_csrf_checks=True)
    client.force_login(business["owner"].user)
    fingerprint = services.preview_change_plan(
        workspace=workspace, price_id=price_id("enterprise")
    ).fingerprint
    response = client.post(
        url("subscription_plan_confirm", workspace),
        {"price": price_id("enterprise"), "fingerprint": fingerprint},
    )
    assert response.status_code == 403
    assert client.post(url("subscription_cancel", workspace), {"reason": "too_expensive"}).status_code == 403
    assert state(workspace) == before


# --- customization --------------------------------------------------------------------------------


def test_customize_live_summary_then_confirm(client, acme):
    workspace = acme["owner"].workspace
    client.force_login(acme["owner"].user)
    page = client.get(url("subscription_customize", workspace))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'hx-trigger="input changed delay:300ms"' in body
    assert "Crédits supplémentaires (en millions)" in text(page)
    assert "Sièges supplémentaires" in text(page)
    assert 'name="extra_seats"' in body
    assert 'value="5"' in body

    summary = client.get(
        url("subscription_customize_summary", workspace), {"extra_seats": 7, "credit_packs": 3}, headers=HTMX
    )
    assert summary.status_code == 200
    assert "<html" not in summary.content.decode()
    expected = services.preview_customize(workspace=workspace, extra_seats=7, credit_packs=3)
    summary_text = text(summary)
    assert "Crédits supplémentaires, packs de 1 000 000 crédits 3 × 5,00 € = 15,00 €" in summary_text
    assert "Team Starter, sièges supplémentaires 2 × 15,00 € × 21/31 jours = 20,32 €" in summary_text
    # 3 × 5,00 € = 15,00 €; 30,00 € × 21/31 = 20,322… → 20,32 €; 35,32 € + VAT 7,064 € → 7,06 €
    assert "Total dû maintenant 42,38 €" in summary_text
    assert expected.total_due_now_cents == 4_238
    fingerprint = hidden(summary.content.decode(), "fingerprint")
    assert fingerprint == expected.fingerprint

    form = {"extra_seats": 7, "credit_packs": 3, "fingerprint": fingerprint, "token": hidden(body, "token")}
    response = client.post(url("subscription_customize", workspace), form)
    assert response.status_code == 302
    [message] = flashes(response)
    assert message.startswith(
        "Votre plan a été personnalisé. 7 sièges supplémentaires. 3 000 000 crédits supplémentaires achetés."
    )
    after = state(workspace)
    assert after[3] == 7
    shown(client, response, message)
    again = client.post(url("subscription_customize", workspace), form)
    assert again.status_code == 302
    assert state(workspace) == after


def test_customize_refuses_bad_numbers(client, acme):
    workspace = acme["owner"].workspace
    before = state(workspace)
    client.force_login(acme["owner"].user)
    response = client.post(url("subscription_customize", workspace), {"extra_seats": -1, "credit_packs": "x"})
    assert response.status_code == 400
    page = text(response)
    assert "Saisissez un nombre entier." in page
    too_many = client.get(
        url("subscription_customize_summary", workspace), {"extra_seats": 99, "credit_packs": 0}
    )
    assert "Au plus 45 sièges supplémentaires sur ce plan." in text(too_many)
    nothing = client.get(
        url("subscription_customize_summary", workspace), {"extra_seats": 5, "credit_packs": 0}
    )
    with translation.override("fr"):
        assert str(errors.NothingToChange.message) in text(nothing)
    assert 'type="submit" disabled' in nothing.content.decode()
    assert state(workspace) == before


# --- annual switch --------------------------------------------------------------------------------


def test_annual_switch_modal_and_confirmation(client, acme):
    workspace = acme["owner"].workspace
    client.force_login(acme["owner"].user)
    modal = client.get(url("subscription_annual", workspace), headers=HTMX)
    assert modal.status_code == 200
    body = modal.content.decode()
    assert body.lstrip().startswith('<dialog class="modal" id="annual-modal"')
    page = text(modal)
    assert "Économisez 17 %" in page
    assert "Économisez 468,00 € par an" in page
    assert "Le passage à la facturation annuelle est irréversible jusqu'à la fin de la période." in page
    expected = services.preview_switch_to_annual(workspace=workspace)
    # A year of Team Starter and its 5 extra seats, 1 590,00 € + 5 × 150,00 € = 2 340,00 €, less
    # the month's unused time, 234,00 € × 21/31 = 158,516… → 158,52 €: 2 181,48 € HT;
    # VAT 436,296 € → 436,30 €; 2 617,78 €
    assert "Total dû maintenant 2 617,78 €" in page
    assert expected.total_due_now_cents == 261_778

    form = {"fingerprint": hidden(body, "fingerprint"), "token": hidden(body, "token")}
    response = client.post(url("subscription_annual", workspace), form, headers=HTMX)
    assert response.status_code == 204
    events = json.loads(response["HX-Trigger"])
    assert set(events) == {"close-modal", "subscription-changed"}
    assert subscription(workspace).price.interval == "year"
    # The refreshed tab shows the message and no more annual offer.
    tab = client.get(
        url("subscription_overview", workspace), headers={**HTMX, "HX-Target": "subscription-tabs"}
    )
    tab_text = text(tab)
    assert "Votre abonnement est désormais facturé annuellement." in tab_text
    assert "Passer à la facturation annuelle" not in tab_text
    assert "/an" in tab_text


def test_annual_switch_without_javascript_redirects(client, acme):
    workspace = acme["owner"].workspace
    client.force_login(acme["owner"].user)
    page = client.get(url("subscription_annual", workspace))
    assert "<html" in page.content.decode()
    body = page.content.decode()
    form = {"fingerprint": hidden(body, "fingerprint"), "token": hidden(body, "token")}
    response = client.post(url("subscription_annual", workspace), form)
    assert response.status_code == 302
    assert response["Location"] == url("subscription_overview", workspace)
    after = state(workspace)
    again = client.post(url("subscription_annual", workspace), form)
    assert again.status_code == 302
    assert state(workspace) == after


# --- cancellation and reactivation ---------------------------------------------------------------


def test_cancel_modal_lists_the_eight_reasons(client, acme):
    workspace = acme["owner"].workspace
    client.force_login(acme["owner"].user)
    settings_body = client.get(url("subscription_settings", workspace)).content.decode()
    assert f'hx-get="{url("subscription_cancel", workspace)}"' in settings_body
    modal = client.get(url("subscription_cancel", workspace), headers=HTMX)
    assert modal.content.decode().lstrip().startswith('<dialog class="modal" id="cancel-modal"')
    page = text(modal)
    for reason in (
        "Coût trop élevé",
        "Fonctionnalités manquantes",
        "Difficulté d'utilisation",
        "Problèmes techniques",
        "Service client insatisfaisant",
        "Pas assez de valeur ajoutée",
        "Changement des besoins",
        "Autre",
    ):
        assert reason in page
    assert (
        "L'abonnement reste actif jusqu'à la fin de la période de facturation actuelle (2 novembre 2025)."
        in page
    )
    assert "Confirmer l'annulation" in page


def test_cancel_needs_a_reason_and_text_for_other(client, acme):
    workspace = acme["owner"].workspace
    before = state(workspace)
    client.force_login(acme["owner"].user)
    no_reason = client.post(url("subscription_cancel", workspace), {"token": "a"}, headers=HTMX)
    assert no_reason.status_code == 200  # htmx swaps the modal with its errors
    assert "Choisissez l'une des raisons d'annulation." in text(no_reason)
    other = client.post(url("subscription_cancel", workspace), {"reason": "other", "comment": "  "})
    assert other.status_code == 400
    assert "Précisez en quelques mots lorsque la raison est « Autre »." in text(other)
    assert state(workspace) == before


def test_cancel_then_reactivate(client, acme):
    workspace = acme["owner"].workspace
    client.force_login(acme["owner"].user)
    response = client.post(
        url("subscription_cancel", workspace),
        {"reason": "other", "comment": "We merge with another team", "token": "cancel-1"},
        headers=HTMX,
    )
    assert response.status_code == 204
    assert "close-modal" in json.loads(response["HX-Trigger"])
    sub = subscription(workspace)
    assert sub.status == SubscriptionStatus.CANCELED
    assert sub.cancel_reason == "other"
    assert sub.cancel_comment == "We merge with another team"
    events = SubscriptionEvent.objects.filter(workspace=workspace).count()
    client.get(url("subscription_settings", workspace), headers={**HTMX, "HX-Target": "subscription-tabs"})
    # Double submit: replayed, not an "already cancelled" error.
    again = client.post(
        url("subscription_cancel", workspace),
        {"reason": "other", "comment": "We merge with another team", "token": "cancel-1"},
    )
    assert again.status_code == 302
    assert flashes(again) == ["Votre abonnement est annulé. Vous conservez l'accès jusqu'au 2 novembre 2025."]
    assert SubscriptionEvent.objects.filter(workspace=workspace).count() == events

    settings_page = client.get(url("subscription_settings", workspace))
    body = settings_page.content.decode()
    assert "Réactiver l'abonnement" in text(settings_page)
    token = hidden(body, "token")
    reactivated = client.post(url("subscription_reactivate", workspace), {"token": token})
    assert reactivated.status_code == 302
    assert reactivated["Location"] == url("subscription_settings", workspace)
    assert flashes(reactivated) == [
        "Votre abonnement est réactivé. Il se renouvelle de nouveau automatiquement."
    ]
    shown(client, reactivated, "Votre abonnement est réactivé.")
    assert subscription(workspace).status == SubscriptionStatus.ACTIVE
    twice = client.post(url("subscription_reactivate", workspace), {"token": token})
    assert flashes(twice) == flashes(reactivated)
    assert subscription(workspace).auto_renew is True


def test_reactivate_when_not_cancelled_says_why(client, acme):
    workspace = acme["owner"].workspace
    before = state(workspace)
    client.force_login(acme["owner"].user)
    response = client.post(url("subscription_reactivate", workspace), {"token": "x"})
    assert response.status_code == 302
    with translation.override("fr"):
        assert flashes(response) == [str(errors.NotCanceled.message)]
    assert state(workspace) == before
