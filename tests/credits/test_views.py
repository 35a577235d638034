"""The AI actions page (per role, htmx fragments, the out-of-credits modal) and the API
keys page (owners and admins: create shows the key once, revoke)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from credits import apikeys, selectors, services
from credits.models import ApiKey, DailyUsage, LedgerEntry
from tests.credits.helpers import assert_ledger_consistent
from tests.factories import subscribe
from workspaces.errors import PermissionDenied
from workspaces.models import Role

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def page(workspace):
    services.allowance_ensure_current(workspace=workspace, now=timezone.now())
    return reverse("ai_actions", args=[workspace.pk])


def _run_url(workspace):
    return reverse("ai_action_run", args=[workspace.pk])


def _login(client, membership):
    client.force_login(membership.user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN, Role.MEMBER])
def test_the_page_lists_the_sample_actions_for_every_licensed_role(
    client, workspace, page, member_with_role, role
):
    _login(client, member_with_role(role))
    response = client.get(page)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Actions IA" in content
    for label in (
        "Résumer un fil de discussions",
        "Traduire du texte",
        "Regrouper les pense-bêtes",
        "Créer un diagramme",
        "Générer un écran de prototype",
        "Générer le texte alternatif d’une image",
    ):
        assert label in content
    assert "5 crédits par écran" in content
    assert "Gratuit" in content
    assert "Simuler un échec de l’IA" in content
    # The sidebar links the page once its URL exists.
    assert f'href="{page}"' in content


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.GUEST, Role.VISITOR])
def test_guests_and_visitors_get_403_with_the_policy_message(client, workspace, page, member_with_role, role):
    _login(client, member_with_role(role))
    for response in (client.get(page), client.post(_run_url(workspace), {"action": "alt_text"})):
        assert response.status_code == 403
        assert "Les invités et les visiteurs ne peuvent pas effectuer d" in response.content.decode()
    assert not LedgerEntry.objects.filter(kind__in=["reserve", "consume"]).exists()


@pytest.mark.django_db
def test_non_members_get_404(client, page, stranger):
    client.force_login(stranger)
    assert client.get(page).status_code == 404


@pytest.mark.django_db
def test_running_an_action_with_htmx_swaps_the_result_in(client, workspace, page, member):
    _login(client, member)
    response = client.post(
        _run_url(workspace),
        {"action": "prototype_screen", "quantity": 2, "idempotency_key": "page-1"},
        **HTMX,
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert "2 écrans de prototype générés." in content
    assert "10 crédits consommés." in content
    # A fresh idempotency key for the next run, swapped out of band.
    assert 'id="id_idempotency_key"' in content
    assert 'hx-swap-oob="true"' in content
    assert 'value="page-1"' not in content
    assert LedgerEntry.objects.filter(workspace=workspace, kind="capture").count() == 1
    assert DailyUsage.objects.get(workspace=workspace).credits_used == 10
    # A double submission of the same form is charged once.
    client.post(
        _run_url(workspace),
        {"action": "prototype_screen", "quantity": 2, "idempotency_key": "page-1"},
        **HTMX,
    )
    assert LedgerEntry.objects.filter(workspace=workspace, kind="reserve").count() == 1
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_a_simulated_failure_costs_nothing(client, workspace, page, member):
    _login(client, member)
    response = client.post(
        _run_url(workspace),
        {"action": "summarize", "quantity": 1, "simulate_failure": "on", "idempotency_key": "fail"},
        **HTMX,
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "L’IA n’a pas pu générer de résultat. Aucun crédit n’a été consommé." in content
    assert "Aucun crédit consommé." in content
    assert LedgerEntry.objects.filter(workspace=workspace, kind="release").count() == 1
    assert selectors.credit_summary(workspace).balance == 10
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_out_of_credits_opens_the_modal_with_the_offers(client, workspace, page, member):
    _login(client, member)
    response = client.post(
        _run_url(workspace), {"action": "prototype_screen", "quantity": 3, "idempotency_key": "big"}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "body"
    assert response["HX-Reswap"] == "beforeend"
    content = response.content.decode()
    assert "<dialog" in content
    assert "data-modal" in content  # static/js/app.js opens it as a modal
    assert "Vous êtes à court de crédits d’IA" in content
    # Free keeps its balance hidden (docs/rules/credits.md#balance-display); the offers and
    # their links per plan and role: tests/credits/test_out_of_credits_modal.py.
    assert "Cette action nécessite 15 crédits." in content
    assert "il en reste" not in content
    # A member cannot buy: they are told whom to ask, with no link to pages they cannot open.
    assert "Seuls le propriétaire et les admins de l’espace de travail peuvent acheter" in content
    assert "Acheter des crédits supplémentaires" not in content
    assert not LedgerEntry.objects.filter(workspace=workspace, kind="reserve").exists()


@pytest.mark.django_db
def test_the_owner_is_not_told_to_ask_an_admin(client, workspace, page, owner):
    _login(client, owner)
    response = client.post(
        _run_url(workspace), {"action": "prototype_screen", "quantity": 3, "idempotency_key": "big"}, **HTMX
    )
    content = response.content.decode()
    assert "Vous êtes à court de crédits d’IA" in content
    assert "Seuls le propriétaire et les admins" not in content


@pytest.mark.django_db
def test_out_of_credits_without_htmx_renders_the_page_with_an_open_dialog(client, workspace, page, member):
    _login(client, member)
    response = client.post(
        _run_url(workspace), {"action": "prototype_screen", "quantity": 3, "idempotency_key": "b"}
    )
    assert response.status_code == 402
    content = response.content.decode()
    assert "<dialog" in content
    assert " open" in content
    assert "Actions IA" in content


@pytest.mark.django_db
def test_a_full_page_post_shows_the_result_in_the_page(client, workspace, page, member):
    _login(client, member)
    response = client.post(
        _run_url(workspace), {"action": "alt_text", "quantity": 1, "idempotency_key": "alt"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Texte alternatif" in content
    assert "Aucun crédit consommé." in content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"action": "teleport", "quantity": 1, "idempotency_key": "x"},
        {"action": "summarize", "quantity": 0},
    ],
)
def test_invalid_forms_are_refused_and_charge_nothing(client, workspace, page, member, data):
    _login(client, member)
    fragment = client.post(_run_url(workspace), data, **HTMX)
    assert fragment.status_code == 200  # htmx swaps only 2xx answers
    assert "Vérifiez le formulaire :" in fragment.content.decode()
    assert client.post(_run_url(workspace), data).status_code == 400
    assert not LedgerEntry.objects.filter(workspace=workspace, kind="reserve").exists()


@pytest.mark.django_db
def test_the_balance_is_hidden_on_free_and_from_members(client, workspace, page, owner, member):
    _login(client, owner)
    assert "Le solde des crédits n’est pas affiché sur le forfait Free." in client.get(page).content.decode()
    subscribe(workspace, plan="starter", now=timezone.now())
    content = client.get(page).content.decode()
    assert "crédits disponibles" in content
    assert "50 crédits restants sur 50" in content
    client.force_login(member.user)
    content = client.get(page).content.decode()
    assert "crédits disponibles" not in content
    assert "Le solde de crédits est visible par les propriétaires" in content


@pytest.mark.django_db
def test_the_page_stays_within_a_query_budget(client, workspace, page, member, django_assert_max_num_queries):
    _login(client, member)
    with django_assert_max_num_queries(12):
        assert client.get(page).status_code == 200


# --- API keys page -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_create_a_key_shown_once(client, workspace, member_with_role, role):
    _login(client, member_with_role(role))
    url = reverse("api_keys", args=[workspace.pk])
    assert "Aucune clé d’API pour l’instant." in client.get(url).content.decode()
    response = client.post(url, {"name": "Host product", "scopes": ["read", "consume"]})
    assert response.status_code == 200
    content = response.content.decode()
    key = ApiKey.objects.get(workspace=workspace)
    assert "Copiez-la maintenant" in content
    shown = content.split('class="api-key-value">')[1].split("<")[0]
    assert shown.startswith(f"sck_{key.prefix}_")
    assert apikeys.api_key_authenticate(key=shown).pk == key.pk
    # Stored hashed only, and never shown again.
    assert shown not in str(ApiKey.objects.values_list().get())
    assert shown not in client.get(url).content.decode()
    assert f"sck_{key.prefix}_…" in client.get(url).content.decode()


@pytest.mark.django_db
def test_a_key_needs_a_name(client, workspace, owner):
    _login(client, owner)
    response = client.post(reverse("api_keys", args=[workspace.pk]), {"name": "   "})
    assert response.status_code == 400
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_revoking_a_key(client, workspace, owner, other_workspace):
    _login(client, owner)
    key, plain = apikeys.api_key_create(workspace=workspace, actor=owner, name="Old")
    other_key, _ = apikeys.api_key_create(workspace=other_workspace, actor=None, name="Theirs")
    response = client.post(reverse("api_key_revoke", args=[workspace.pk, key.pk]), follow=True)
    assert response.status_code == 200
    assert "La clé « Old » est révoquée" in response.content.decode()
    assert "Révoquée" in response.content.decode()
    assert apikeys.api_key_authenticate(key=plain) is None
    # Another workspace's key is not found from here.
    assert client.post(reverse("api_key_revoke", args=[workspace.pk, other_key.pk])).status_code == 404
    assert ApiKey.objects.get(pk=other_key.pk).revoked_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER, Role.GUEST])
def test_other_roles_cannot_manage_keys(client, workspace, member_with_role, role):
    _login(client, member_with_role(role))
    url = reverse("api_keys", args=[workspace.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "Mine"}).status_code == 403
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "about_keys", "about_the_subscription"),
    [
        ("fr", "peuvent créer ou révoquer des clés d’API", "l’abonnement"),
        ("en", "can create or revoke API keys", "subscription"),
    ],
)
@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER])
def test_a_role_refused_the_api_keys_is_told_about_api_keys_not_the_subscription(
    client, workspace, member_with_role, role, language, about_keys, about_the_subscription
):
    _login(client, member_with_role(role))
    client.cookies["django_language"] = language
    owner_key, _ = apikeys.api_key_create(workspace=workspace, actor=None, name="Host product")

    for response in (
        client.get(reverse("api_keys", args=[workspace.pk])),
        client.post(reverse("api_keys", args=[workspace.pk]), {"name": "Mine"}),
        client.post(reverse("api_key_revoke", args=[workspace.pk, owner_key.pk])),
    ):
        assert response.status_code == 403
        refusal = response.content.decode().split('class="message message--error">')[1].split("</p>")[0]
        assert about_keys in refusal
        assert "Contact" in refusal
        assert about_the_subscription not in refusal


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER])
def test_the_key_services_refuse_other_roles_with_the_api_keys_message(workspace, member_with_role, role):
    actor = member_with_role(role)
    key, _ = apikeys.api_key_create(workspace=workspace, actor=None, name="Host product")

    with pytest.raises(PermissionDenied) as created:
        apikeys.api_key_create(workspace=workspace, actor=actor, name="Mine")
    with pytest.raises(PermissionDenied) as revoked:
        apikeys.api_key_revoke(workspace=workspace, actor=actor, api_key_id=key.pk)

    for refused in (created, revoked):
        assert "clés d’API" in str(refused.value.message)
    assert ApiKey.objects.filter(workspace=workspace).count() == 1
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "shown"),
    [(Role.OWNER, True), (Role.ADMIN, True), (Role.BILLING_ADMIN, False), (Role.MEMBER, False)],
)
def test_only_the_roles_that_manage_api_keys_see_their_link(client, workspace, member_with_role, role, shown):
    _login(client, member_with_role(role))

    content = client.get(reverse("member_list", args=[workspace.pk])).content.decode()

    assert (reverse("api_keys", args=[workspace.pk]) in content) is shown
