"""Credit packs bought on every plan, Free included, with the card on file (pay then
apply), and add-ons bought and removed from the customization page, prorated like seats
(docs/rules/lifecycle.md#customize, docs/rules/plans.md#extra-credits,
docs/rules/plans.md#add-ons)."""

from __future__ import annotations

import re

import pytest
import time_machine

from billing import services
from credits import selectors as credit_selectors
from credits.models import CreditGrant
from invoices.models import Invoice
from invoices.selectors import account_balance_cents
from subscriptions import errors
from subscriptions.models import SubscriptionAddOn
from tests.factories import VISA_DECLINED, subscribe
from tests.subscriptions.conftest import APRIL_1, APRIL_10, _sub, db_state, save_card
from tests.subscriptions.test_pages_support import text, url
from workspaces.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _april_10():
    """Pages are read on 10 April 2026: 21 of the 30 days of April remain."""
    with time_machine.travel(APRIL_10, tick=False):
        yield


def _page(client, membership, **query):
    client.force_login(membership.user)
    return client.get(url("subscription_customize", membership.workspace, **query))


def _confirm(client, response, **fields):
    """Post the form the page shows, as the browser would."""
    body = response.content.decode()
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
    form.pop("csrfmiddlewaretoken", None)
    for name, value in re.findall(r'<input type="number" name="([^"]+)" value="([^"]*)"', body):
        form[name] = value
    form.update(fields)
    workspace_id = re.search(r'action="/([0-9a-f-]+)/workspace/subscription/customize/"', body).group(1)
    return client.post(f"/{workspace_id}/workspace/subscription/customize/", form)


def _effects(response) -> list[str]:
    block = re.search(r'data-testid="preview-effects">(.*?)</div>', response.content.decode(), re.S)
    if block is None:
        return []
    items = re.findall(r"<li>(.*?)</li>", block.group(1), re.S)
    return [re.sub(r"\s+", " ", item.replace("\u00a0", " ").replace("\u202f", " ")).strip() for item in items]


# --- Credit packs on Free -----------------------------------------------------------------------


@pytest.fixture
def free_with_card(billed_workspace, owner, other_billed):
    save_card(billed_workspace, owner)
    return billed_workspace


def test_free_buys_two_packs_with_the_card_on_file_and_gets_the_credits_once_paid(
    client, free_with_card, owner
):
    page = _page(client, owner, credit_packs=2)

    assert page.status_code == 200
    shown = text(page)
    assert "Achetez des packs de crédits d’IA supplémentaires" in shown
    assert "Sièges supplémentaires" not in shown  # Free sells no seats
    # 2 packs × 5,00 € = 10,00 € + VAT 2,00 € = 12,00 €
    assert "Crédits supplémentaires, packs de 1 000 crédits 2 × 5,00 € = 10,00 €" in shown
    assert "Total dû maintenant 12,00 €" in shown
    assert _effects(page) == ["+2 000 crédits achetés, ajoutés une fois payés ; ils n’expirent jamais."]

    response = _confirm(client, page)

    assert response.status_code == 302
    assert _sub(free_with_card).plan.code == "free"
    invoice = Invoice.objects.get(workspace=free_with_card, billing_reason="customization")
    assert (invoice.total_cents, invoice.status) == (1_200, "paid")
    grant = CreditGrant.objects.get(workspace=free_with_card, bucket="purchased")
    assert (grant.amount, grant.amount_paid_cents) == (2_000, 1_200)
    assert credit_selectors.credit_summary(free_with_card).balance == 10 + 2_000


def test_free_without_a_card_is_sent_to_the_card_page_and_nothing_changes(client, billed_workspace, owner):
    page = _page(client, owner, credit_packs=1)
    assert "Aucune méthode de paiement enregistrée : ajoutez une carte avant d’acheter." in text(page)
    assert f'href="/{billed_workspace.pk}/workspace/subscription/payment-method/"' in page.content.decode()
    before = db_state(billed_workspace)

    response = _confirm(client, page)

    assert response.status_code == 400
    assert db_state(billed_workspace) == before


def test_free_with_a_declined_card_gets_no_credits(client, billed_workspace, owner):
    save_card(billed_workspace, owner, VISA_DECLINED)
    page = _page(client, owner, credit_packs=1)

    _confirm(client, page)

    assert not CreditGrant.objects.filter(workspace=billed_workspace, bucket="purchased").exists()
    invoice = Invoice.objects.get(workspace=billed_workspace, document_type="invoice")
    # Voided by its credit note (docs/rules/lifecycle.md#pay-then-apply).
    assert invoice.status == "void"
    assert invoice.credit_notes.get().total_cents == -600


def test_free_cannot_buy_extra_seats_or_add_ons(free_with_card):
    before = db_state(free_with_card)

    with pytest.raises(errors.ExtrasUnavailable):
        services.preview_customize(workspace=free_with_card, extra_seats=2, now=APRIL_10)
    with pytest.raises(errors.AddOnsUnavailable):
        services.preview_customize(
            workspace=free_with_card, extra_seats=0, addons={"ai-credits": 1}, now=APRIL_10
        )

    assert db_state(free_with_card) == before


# --- Add-ons, prorated like seats ---------------------------------------------------------------


@pytest.fixture
def team_starter(billed_workspace, owner, other_billed):
    """Team Starter monthly since 1 April 2026 (159,00 € a month, 28 000 000 credits)."""
    save_card(billed_workspace, owner)
    with time_machine.travel(APRIL_1, tick=False):
        subscribe(billed_workspace, owner, "team-starter", now=APRIL_1)
    return billed_workspace


def test_the_ai_credits_add_on_is_bought_for_the_rest_of_the_period_with_its_credits_at_once(
    client, team_starter, owner
):
    page = _page(client, owner, **{"addon-ai-credits": 1})

    shown = text(page)
    # 10,00 € a month × 21/30 days = 7,00 € + VAT 1,40 € = 8,40 €
    assert "Module complémentaire AI credits 1 × 10,00 € × 21/30 jours = 7,00 €" in shown
    assert "Total dû maintenant 8,40 €" in shown
    # Next renewal on 1 May: 159,00 € + 10,00 € = 169,00 € + VAT = 202,80 €
    assert "Prochain renouvellement 1 mai 2026 · 202,80 €" in shown
    assert _effects(page) == [
        "Module complémentaire AI credits : 0 → 1 (+1 000 crédits par mois chacun).",
        "Crédits d’IA : 28 000 000 → 28 001 000 crédits par mois, dès aujourd’hui.",
    ]

    response = _confirm(client, page)

    assert response.status_code == 302
    row = SubscriptionAddOn.objects.get(subscription__workspace=team_starter)
    assert (row.addon.code, row.quantity) == ("ai-credits", 1)
    invoice = Invoice.objects.get(workspace=team_starter, billing_reason="customization")
    assert (invoice.total_cents, invoice.status) == (840, "paid")
    addon_grant = CreditGrant.objects.get(workspace=team_starter, bucket="addon_allowance", expired_at=None)
    assert (addon_grant.amount, addon_grant.remaining) == (1_000, 1_000)


def test_removing_the_prototypes_add_on_credits_its_unused_time_to_the_balance(team_starter, owner):
    with time_machine.travel(APRIL_1, tick=False):
        bought = services.preview_customize(
            workspace=team_starter, extra_seats=0, addons={"prototypes": 1}, now=APRIL_1
        )
        # The whole of April: 8,00 € + VAT = 9,60 €.
        assert bought.total_due_now_cents == 960
        services.apply_customize(
            workspace=team_starter,
            actor=owner,
            extra_seats=0,
            addons={"prototypes": 1},
            preview=bought.confirmation,
            now=APRIL_1,
        )

    removed = services.preview_customize(
        workspace=team_starter, extra_seats=0, addons={"prototypes": 0}, now=APRIL_10
    )

    assert [
        (line.kind, line.quantity, line.unit_amount_cents, line.amount_cents) for line in removed.lines
    ] == [
        ("addon", -1, 800, -560)  # −1 × 8,00 € × 21/30 days
    ]
    assert removed.account_credit_cents == 672  # 5,60 € + VAT 1,12 €
    result = services.apply_customize(
        workspace=team_starter,
        actor=owner,
        extra_seats=0,
        addons={"prototypes": 0},
        preview=removed.confirmation,
        now=APRIL_10,
    )
    assert result.invoice.total_cents == -672
    assert account_balance_cents(team_starter) == 672
    assert not SubscriptionAddOn.objects.filter(subscription__workspace=team_starter).exists()


def test_an_add_on_quantity_out_of_bounds_or_unknown_is_refused_and_changes_nothing(team_starter):
    before = db_state(team_starter)

    for addons in ({"ai-credits": 101}, {"ai-credits": -1}, {"unknown": 1}, {"ai-credits": "2"}):
        with pytest.raises(errors.AddOnQuantityInvalid):
            services.preview_customize(workspace=team_starter, extra_seats=0, addons=addons, now=APRIL_10)

    assert db_state(team_starter) == before


def test_the_customization_page_lists_the_add_ons_with_their_price(client, team_starter, owner):
    page = text(_page(client, owner))

    assert "Module complémentaire AI credits" in page
    assert "10,00 € /mois l’unité, +1 000 crédits d’IA chaque mois." in page
    assert "Module complémentaire Prototypes" in page
    assert "8,00 € /mois l’unité, +350 crédits d’IA chaque mois." in page


# --- Roles and tenants ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER, Role.GUEST])
def test_only_owners_and_admins_customize(client, team_starter, member_with_role, role):
    response = _page(client, member_with_role(role), credit_packs=1)

    assert response.status_code == 403


def test_an_admin_buys_a_pack_on_free(client, free_with_card, admin):
    response = _confirm(client, _page(client, admin, credit_packs=1))

    assert response.status_code == 302
    assert CreditGrant.objects.get(workspace=free_with_card, bucket="purchased").amount == 1_000


def test_another_workspaces_customization_is_not_found(client, team_starter, other_billed):
    stranger = other_billed.memberships.get(role=Role.OWNER)
    client.force_login(stranger.user)

    response = client.get(url("subscription_customize", team_starter, credit_packs=1))

    assert response.status_code == 404


def test_on_an_annual_price_an_add_on_is_prorated_in_months_like_a_seat(
    billed_workspace, owner, other_billed
):
    """Annual add-ons cost 12 × the monthly price; added, the current month counts as used
    from; removed, only the months after the current one are credited
    (docs/rules/proration.md#removing-a-seat)."""
    save_card(billed_workspace, owner)
    with time_machine.travel(APRIL_1, tick=False):
        subscribe(billed_workspace, owner, "team-starter", "year", now=APRIL_1)

    added = services.preview_customize(
        workspace=billed_workspace, extra_seats=0, addons={"ai-credits": 1}, now=APRIL_10
    )
    assert [(line.quantity, line.unit_amount_cents, line.amount_cents) for line in added.lines] == [
        (1, 12_000, 12_000)  # 1 × 120,00 € × 12/12 months
    ]
    services.apply_customize(
        workspace=billed_workspace,
        actor=owner,
        extra_seats=0,
        addons={"ai-credits": 1},
        preview=added.confirmation,
        now=APRIL_10,
    )

    removed = services.preview_customize(
        workspace=billed_workspace, extra_seats=0, addons={"ai-credits": 0}, now=APRIL_10
    )
    assert [(line.quantity, line.unit_amount_cents, line.amount_cents) for line in removed.lines] == [
        (-1, 12_000, -11_000)  # −1 × 120,00 € × 11/12 months
    ]


def test_during_a_trial_an_add_on_costs_nothing_until_the_trial_ends(billed_workspace, owner, other_billed):
    with time_machine.travel(APRIL_1, tick=False):
        subscribe(billed_workspace, owner, "team-starter", now=APRIL_1, trial=True)

    preview = services.preview_customize(
        workspace=billed_workspace, extra_seats=0, addons={"prototypes": 1}, now=APRIL_10
    )

    assert preview.lines == ()
    assert preview.total_due_now_cents == 0
    # The first period, at the trial's end on 15 April: 159,00 € + 8,00 € + VAT = 200,40 €.
    assert preview.next_renewal_cents == 20_040


def test_a_cancelled_subscription_still_buys_packs_but_no_seats_or_add_ons(team_starter, owner):
    with time_machine.travel(APRIL_1, tick=False):
        cancel = services.preview_cancel(workspace=team_starter, reason="too_expensive", now=APRIL_1)
        services.apply_cancel(
            workspace=team_starter, actor=owner, reason="too_expensive", preview=cancel, now=APRIL_1
        )

    with pytest.raises(errors.SubscriptionNotChangeable):
        services.preview_customize(workspace=team_starter, extra_seats=1, now=APRIL_10)
    with pytest.raises(errors.SubscriptionNotChangeable):
        services.preview_customize(
            workspace=team_starter, extra_seats=0, addons={"ai-credits": 1}, now=APRIL_10
        )
    packs = services.preview_customize(workspace=team_starter, extra_seats=0, credit_packs=1, now=APRIL_10)
    services.apply_customize(
        workspace=team_starter, actor=owner, extra_seats=0, credit_packs=1, preview=packs, now=APRIL_10
    )

    # Team Starter packs: 1 000 000 credits for 5,00 € (6,00 € with VAT).
    grant = CreditGrant.objects.get(workspace=team_starter, bucket="purchased")
    assert (grant.amount, grant.amount_paid_cents) == (1_000_000, 600)
    assert _sub(team_starter).status == "canceled"
