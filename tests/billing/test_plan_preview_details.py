"""The plan picker and the plan-change preview say what changes besides money: extra
seats carried over (and billed), reduced or ended, paid seats at their new price, the
AI credit allowance before and after and from when (docs/rules/lifecycle.md#previews);
and on a paid plan the picker offers the billing period the rules allow
(docs/rules/lifecycle.md#change-plan)."""

from __future__ import annotations

import re

import pytest
import time_machine

from invoices.models import Invoice
from subscriptions.models import Plan
from tests.factories import price_id, subscribe
from tests.subscriptions.conftest import APRIL_1, APRIL_10, _sub, add_members, paris, save_card
from tests.subscriptions.test_pages_support import text, url
from workspaces.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _april_10():
    """The pages are read on 10 April 2026: 21 of the 30 days of April remain."""
    with time_machine.travel(APRIL_10, tick=False):
        yield


def _preview(client, membership, plan: str, interval: str = "month"):
    client.force_login(membership.user)
    return client.get(url("subscription_plan_preview", membership.workspace, price=price_id(plan, interval)))


def _effects(response) -> list[str]:
    """The sentences under "Ce qui change"."""
    block = re.search(r'data-testid="preview-effects">(.*?)</div>', response.content.decode(), re.S)
    assert block is not None, "no 'Ce qui change' block"
    items = re.findall(r"<li>(.*?)</li>", block.group(1), re.S)
    return [re.sub(r"\s+", " ", item.replace("\u00a0", " ").replace("\u202f", " ")).strip() for item in items]


@pytest.fixture
def on_starter(billed_workspace, owner):
    """Starter monthly since 1 April 2026 with three licensed members (30,00 € a month) and a guest."""
    add_members(billed_workspace, 2)
    add_members(billed_workspace, 1, Role.GUEST)  # holds no licence
    save_card(billed_workspace, owner)
    with time_machine.travel(APRIL_1, tick=False):
        subscribe(billed_workspace, owner, "starter", now=APRIL_1)
    return billed_workspace


@pytest.fixture
def team_starter_10_extra(billed_workspace, owner, other_billed):
    """Team Starter monthly since 1 April with 10 extra seats, the owner its one member."""
    save_card(billed_workspace, owner)
    with time_machine.travel(APRIL_1, tick=False):
        subscribe(billed_workspace, owner, "team-starter", now=APRIL_1, extra_seats=10)
    return billed_workspace


def test_team_starter_with_10_extra_seats_to_enterprise_says_the_seats_carry_over_and_the_allowance_falls(
    client, team_starter_10_extra, owner
):
    response = _preview(client, owner, "enterprise")

    assert response.status_code == 200
    assert _effects(response) == [
        "10 sièges supplémentaires conservés sur Enterprise, facturés 40,00 € /mois chacun.",
        # Enterprise: 100 credits per licence, the 10 extra seats are 10 licences. It resets
        # on the 1st, and Team Starter renews on the 1st: the same credit period, so the
        # smaller allowance waits for the next reset.
        "Crédits d’IA : 28 M → 1 000 crédits par mois à partir du 1 mai 2026, au prochain "
        "renouvellement des crédits ; l’allocation actuelle reste acquise d’ici là.",
    ]
    page = text(response)
    # Enterprise 10 seats × 40,00 € = 400,00 € × 21/30 = 280,00 €; Team Starter
    # 159,00 € + 10 × 15,00 € = 309,00 € × 21/30 = 216,30 € back: 63,70 € + VAT 12,74 €.
    assert "Forfait Enterprise, reste de la période 1 × 400,00 € × 21/30 jours = 280,00 €" in page
    assert "Temps non utilisé sur Team Starter -1 × 309,00 € × 21/30 jours = -216,30 €" in page
    assert "Total dû maintenant 76,44 €" in page


def test_a_plan_without_extra_seats_ends_them_and_bills_every_member_on_a_paid_seat(
    client, team_starter_10_extra, owner
):
    add_members(team_starter_10_extra, 3)
    Plan.objects.filter(code="business").update(allows_extras=False)

    response = _preview(client, owner, "business")

    assert _effects(response) == [
        "10 sièges supplémentaires prennent fin : Business ne propose pas de sièges supplémentaires.",
        "4 sièges payants, désormais à 20,00 € /mois chacun.",
        # Business: 50 per licence × 4 = 200, lower, same renewal day: the next reset.
        "Crédits d’IA : 28 M → 200 crédits par mois à partir du 1 mai 2026, au prochain "
        "renouvellement des crédits ; l’allocation actuelle reste acquise d’ici là.",
    ]


def test_paid_seats_take_the_new_plans_price_and_the_allowance_rises_at_once(client, on_starter, owner):
    response = _preview(client, owner, "business")

    assert _effects(response) == [
        "3 sièges payants, désormais à 20,00 € /mois chacun.",
        "Crédits d’IA : 75 → 150 crédits par mois, dès aujourd’hui.",
    ]


def test_subscribing_from_free_says_which_members_take_paid_seats(client, billed_workspace, owner):
    add_members(billed_workspace, 4)  # five licensed members, Pro includes three

    response = _preview(client, owner, "pro")

    assert _effects(response) == [
        "2 sièges payants, désormais à 12,99 € /mois chacun.",
        "Crédits d’IA : 10 → 500 crédits par mois, dès aujourd’hui.",
    ]


def test_the_preview_in_english(client, team_starter_10_extra, owner):
    client.cookies["django_language"] = "en"

    response = _preview(client, owner, "enterprise")

    assert _effects(response) == [
        "10 extra seats carried over to Enterprise, billed €40.00 /month each.",
        "AI credits: 28M → 1,000 credits per month from May 1, 2026, the next reset; "
        "the current allowance stays until then.",
    ]


# --- The billing period in the plan picker ----------------------------------------------------


def _choices(response) -> dict[str, list[str]]:
    """Per plan card, the labels of its buttons and links."""
    body = response.content.decode()
    cards = re.findall(r'<article class="card plan-option.*?</article>', body, re.S)
    found = {}
    for card in cards:
        heading = re.search(r"<h2[^>]*>(.*?)</h2>", card, re.S)
        assert heading is not None
        name = heading.group(1).strip()
        labels = re.findall(r"<(button|a)\b[^>]*>(.*?)</\1>", card, re.S)
        found[name] = [label.strip() for _, label in labels]
    return found


def test_on_a_monthly_plan_the_picker_offers_monthly_and_annual_billing(client, on_starter, owner):
    client.force_login(owner.user)
    response = client.get(url("subscription_plans", on_starter))

    choices = _choices(response)
    assert choices["Starter"] == ["Passer à la facturation annuelle"]
    assert choices["Business"] == ["Choisir la facturation mensuelle", "Choisir la facturation annuelle"]
    # Pro sells weekly too: a monthly subscription moves to monthly or annual, never weekly.
    assert choices["Pro"] == ["Choisir la facturation mensuelle", "Choisir la facturation annuelle"]
    assert choices["Free"] == []
    assert "Facturation mensuelle. Choisissez un autre plan en facturation mensuelle ou annuelle" in text(
        response
    )


def test_monthly_to_another_plans_annual_price_starts_the_annual_period_today(client, on_starter, owner):
    response = _preview(client, owner, "business", "year")

    page = text(response)
    assert "Facturation annuelle dès aujourd’hui" in page
    # Business annual 3 seats × 200,00 € = 600,00 €; Starter 30,00 € × 21/30 = 21,00 € back:
    # 579,00 € HT + VAT 115,80 € = 694,80 €.
    assert "Sièges Business 3 × 200,00 € = 600,00 €" in page
    assert "Temps non utilisé sur Starter -1 × 30,00 € × 21/30 jours = -21,00 €" in page
    assert "Total dû maintenant 694,80 €" in page
    assert _effects(response) == [
        "3 sièges payants, désormais à 200,00 € /an chacun.",
        # The renewal day moves to the 10th: another credit period, at once.
        "Crédits d’IA : 75 → 150 crédits par mois, dès aujourd’hui.",
    ]

    body = response.content.decode()
    form = {
        name: re.findall(rf'name="{name}" value="([^"]*)"', body)[0]
        for name in ("price", "fingerprint", "token")
    }
    confirmed = client.post(url("subscription_plan_confirm", on_starter), form)

    assert confirmed.status_code == 302
    subscription = _sub(on_starter)
    assert (subscription.plan.code, subscription.price.interval) == ("business", "year")
    assert (subscription.current_period_start, subscription.current_period_end) == (
        paris(2026, 4, 10),
        paris(2027, 4, 10),
    )
    invoice = Invoice.objects.filter(workspace=on_starter, billing_reason="plan_change").get()
    assert (invoice.total_cents, invoice.status) == (69_480, "paid")


def test_on_an_annual_plan_monthly_billing_waits_for_the_end_of_the_year(client, billed_workspace, owner):
    save_card(billed_workspace, owner)
    with time_machine.travel(APRIL_1, tick=False):
        subscribe(billed_workspace, owner, "starter", "year", now=APRIL_1)
    client.force_login(owner.user)

    response = client.get(url("subscription_plans", billed_workspace))

    choices = _choices(response)
    # Its annual price only: the page says why the monthly one is not offered.
    assert choices["Business"] == ["Choisir ce plan"]
    assert choices["Starter"] == []
    assert "Facturation annuelle jusqu’au 1 avr. 2027 : la facturation mensuelle sera possible" in text(
        response
    )
    refused = _preview(client, owner, "business", "month")
    assert refused.status_code == 400
    assert "Le passage à l'annuel est irréversible jusqu'à la fin de la période annuelle." in text(refused)
    assert _sub(billed_workspace).price.interval == "year"


# --- Roles and tenants ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER])
def test_only_owners_and_admins_see_a_preview(client, on_starter, member_with_role, role):
    response = _preview(client, member_with_role(role), "business")

    assert response.status_code == 403


def test_an_admin_sees_the_same_details(client, on_starter, admin):
    response = _preview(client, admin, "business")

    assert _effects(response)[0] == "4 sièges payants, désormais à 20,00 € /mois chacun."


def test_another_workspaces_preview_is_not_found(client, on_starter, other_billed):
    stranger = other_billed.memberships.get(role=Role.OWNER)
    client.force_login(stranger.user)

    response = client.get(url("subscription_plan_preview", on_starter, price=price_id("business")))

    assert response.status_code == 404


def test_weekly_to_another_plans_annual_price_credits_the_unused_week(client, billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "pro", "week", now=APRIL_10)

    response = _preview(client, owner, "max", "year")

    page = text(response)
    # Max annual 179,99 €; the whole week of Pro back, 4,99 € × 7/7: 175,00 € + VAT 35,00 €.
    assert "Forfait Max 1 × 179,99 € = 179,99 €" in page
    assert "Temps non utilisé sur Pro -1 × 4,99 € × 7/7 jours = -4,99 €" in page
    assert "Total dû maintenant 210,00 €" in page
