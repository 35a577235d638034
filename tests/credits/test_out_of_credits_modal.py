"""The out-of-credits modal, per plan and role (docs/rules/credits.md#out-of-credits):
"nécessite 1 crédit" counted right, the balance only where it is shown (never on Free),
and offers that lead to the very place they are bought, on Free as on a paid plan."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from credits import services
from credits.models import LedgerEntry
from tests.factories import subscribe
from tests.subscriptions.conftest import APRIL_1, APRIL_10, save_card
from tests.subscriptions.test_pages_support import text
from workspaces.models import Role

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _april_10():
    with time_machine.travel(APRIL_10, tick=False):
        yield


def _run(client, membership, action: str, quantity: int, key: str = "k"):
    client.force_login(membership.user)
    return client.post(
        reverse("ai_action_run", args=[membership.workspace.pk]),
        {"action": action, "quantity": quantity, "idempotency_key": key},
        **HTMX,
    )


def _spend(workspace, membership, credits: int) -> None:
    services.credits_consume(
        workspace=workspace, actor=membership, action="summarize", quantity=credits, idempotency_key="spent"
    )


def _links(response) -> dict[str, str]:
    body = response.content.decode()
    return {
        re.sub(r"\s+", " ", label).strip(): href
        for href, label in re.findall(r'<a class="button[^"]*" href="([^"]*)">(.*?)</a>', body, re.S)
    }


@pytest.fixture
def on_free(workspace, other_workspace):
    """Free with its 10 credits; the other tenant on Business."""
    services.allowance_ensure_current(workspace=workspace, now=timezone.now())
    save_card(other_workspace, None)
    with time_machine.travel(APRIL_1, tick=False):
        subscribe(other_workspace, plan="business", now=APRIL_1)
    return workspace


@pytest.fixture
def on_business(workspace, owner):
    """Business monthly since 1 April: one licence, 50 credits a month."""
    save_card(workspace, owner)
    with time_machine.travel(APRIL_1, tick=False):
        subscribe(workspace, owner, "business", now=APRIL_1)
    return workspace


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_on_free_a_manager_is_told_the_cost_in_the_singular_not_the_balance_and_offered_packs(
    client, on_free, member_with_role, role
):
    manager = member_with_role(role)
    _spend(on_free, manager, 10)

    response = _run(client, manager, "summarize", 1)

    page = text(response)
    assert "Cette action nécessite 1 crédit. Obtenez plus de crédits d’IA pour continuer :" in page
    assert "reste" not in page  # Free keeps its balance hidden (docs/rules/credits.md#balance-display)
    assert "Packs de 1 000 crédits à 5,00 € ; les crédits achetés n’expirent jamais." in page
    assert "+1 000 crédits chaque mois. Il s’ajoute à un plan payant." in page
    ws = on_free.pk
    assert _links(response) == {
        "Acheter des crédits supplémentaires": f"/{ws}/workspace/subscription/customize/?credit_packs=1#credit-packs",
        # Add-ons come with a paid plan: on Free the offer opens the plans.
        "Ajouter le module complémentaire de crédits d’IA": f"/{ws}/workspace/subscription/plans/",
        "Mettre à niveau mon plan": f"/{ws}/workspace/subscription/plans/",
    }
    assert not LedgerEntry.objects.filter(workspace=on_free, idempotency_key="k").exists()


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER])
def test_on_free_others_are_told_whom_to_ask_without_links_or_balance(
    client, on_free, member_with_role, role
):
    response = _run(client, member_with_role(role), "prototype_screen", 3)

    page = text(response)
    assert "Cette action nécessite 15 crédits." in page
    assert "reste" not in page
    assert "Seuls le propriétaire et les admins de l’espace de travail peuvent acheter" in page
    assert _links(response) == {}


def test_on_a_paid_plan_the_owner_sees_the_balance_and_the_add_on_opens_the_customization(
    client, on_business, owner
):
    _spend(on_business, owner, 49)

    response = _run(client, owner, "summarize", 2)

    page = text(response)
    assert "Cette action nécessite 2 crédits. Il reste 1 crédit." in page
    ws = on_business.pk
    assert _links(response) == {
        "Acheter des crédits supplémentaires": f"/{ws}/workspace/subscription/customize/?credit_packs=1#credit-packs",
        "Ajouter le module complémentaire de crédits d’IA": (
            f"/{ws}/workspace/subscription/customize/?addon-ai-credits=1#addon-ai-credits"
        ),
        "Mettre à niveau mon plan": f"/{ws}/workspace/subscription/plans/",
    }


def test_on_a_paid_plan_a_billing_admin_sees_the_balance_but_cannot_buy(
    client, on_business, member_with_role
):
    billing_admin = member_with_role(Role.BILLING_ADMIN)

    response = _run(client, billing_admin, "prototype_screen", 11)

    page = text(response)
    # Two licences since the billing admin joined, but the allowance moves at the next reset: 50.
    assert "Cette action nécessite 55 crédits. Il reste 50 crédits." in page
    assert "Seuls le propriétaire et les admins" in page
    assert _links(response) == {}


def test_on_a_paid_plan_a_member_does_not_see_the_balance(client, on_business, member):
    response = _run(client, member, "prototype_screen", 11)

    page = text(response)
    assert "Cette action nécessite 55 crédits." in page
    assert "reste" not in page


def test_the_modal_in_english(client, on_free, owner):
    _spend(on_free, owner, 10)
    client.cookies["django_language"] = "en"

    page = text(_run(client, owner, "summarize", 1))

    assert "This action needs 1 credit. Get more AI credits to continue:" in page
    assert "left" not in page
    assert "Packs of 1,000 credits for €5.00; purchased credits never expire." in page


def test_every_offer_opens_a_page_that_sells_it(client, on_free, owner):
    """The dead end of the issue: the pack link now opens a page where Free buys one."""
    _spend(on_free, owner, 10)
    links = _links(_run(client, owner, "summarize", 1))

    for label, href in links.items():
        response = client.get(href.split("#")[0])
        assert response.status_code == 200, label
    pack_page = text(client.get(links["Acheter des crédits supplémentaires"].split("#")[0]))
    assert "Crédits supplémentaires, packs de 1 000 crédits 1 × 5,00 € = 5,00 €" in pack_page
    assert "Total dû maintenant 6,00 €" in pack_page
    assert "ne peut pas être personnalisé" not in pack_page
