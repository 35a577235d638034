"""The local secure payment page (/pay/setup/<token>/) and "Mettre à jour le paiement"."""

from datetime import date, timedelta
from urllib.parse import urlparse

import pytest
import time_machine
from django.utils import timezone

from gateways.local.gateway import make_setup_token
from subscriptions.models import PaymentMethod
from tests.factories import MembershipFactory, UserFactory
from workspaces.models import Role


def setup_url(workspace, back=None):
    return f"/pay/setup/{make_setup_token(workspace, back or f'/{workspace.pk}/workspace/')}/"


CARD = {"number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"}


def test_update_payment_redirects_to_the_secure_page_and_back(client, workspace, owner):
    client.force_login(owner.user)
    back = f"/{workspace.pk}/workspace/members/"

    response = client.post(f"/{workspace.pk}/workspace/subscription/payment-method/", {"next": back})

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/pay/setup/")
    page = client.get(location)
    assert page.status_code == 200
    assert "Paiement sécurisé" in page.content.decode()
    saved = client.post(location, CARD)
    assert saved.status_code == 302
    assert saved["Location"] == back


def test_update_payment_ignores_a_foreign_return_url(client, workspace, owner):
    client.force_login(owner.user)

    response = client.post(
        f"/{workspace.pk}/workspace/subscription/payment-method/", {"next": "https://evil.example/"}
    )
    saved = client.post(response["Location"], CARD)

    assert saved["Location"] == f"/{workspace.pk}/workspace/"


def test_update_payment_is_post_only(client, workspace, owner):
    client.force_login(owner.user)
    assert client.get(f"/{workspace.pk}/workspace/subscription/payment-method/").status_code == 405


def test_saving_a_card_keeps_only_brand_last4_and_expiry(client, workspace, owner, other_workspace):
    client.force_login(owner.user)

    response = client.post(setup_url(workspace), CARD, follow=True)

    method = PaymentMethod.objects.get(workspace=workspace)
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == ("Visa", "4242", 12, 2039)
    assert "Méthode de paiement enregistrée : Visa se terminant par 4242." in response.content.decode()
    assert not PaymentMethod.objects.filter(workspace=other_workspace).exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({**CARD, "number": "4242 4242 4242 4241"}, "Ce numéro de carte n'est pas valide."),
        (
            {**CARD, "number": "4012 8888 8888 1881"},
            "Cette page de paiement n'accepte que des cartes de test",
        ),
        ({**CARD, "expiry": "01/20"}, "Cette carte a expiré."),
        ({**CARD, "expiry": "13/30"}, "Saisissez la date d'expiration au format MM/AA"),
        ({**CARD, "expiry": "1230"}, "Saisissez la date d'expiration au format MM/AA"),
        ({**CARD, "cvc": "12"}, "Le cryptogramme (CVC) comporte 3 ou 4 chiffres."),
        ({**CARD, "cvc": "12a"}, "Le cryptogramme (CVC) comporte 3 ou 4 chiffres."),
        # Characters str.isdigit() accepts but int() refuses (superscripts).
        ({**CARD, "expiry": "1\u00b2/39"}, "Saisissez la date d'expiration au format MM/AA"),
        ({**CARD, "expiry": "12/3\u00b2"}, "Saisissez la date d'expiration au format MM/AA"),
        ({**CARD, "number": "4242 4242 4242 424\u00b2"}, "Ce numéro de carte n'est pas valide."),
        ({**CARD, "cvc": "12\u00b3"}, "Le cryptogramme (CVC) comporte 3 ou 4 chiffres."),
    ],
)
def test_bad_card_input_shows_a_clear_french_error_and_saves_nothing(client, workspace, owner, data, error):
    client.force_login(owner.user)

    response = client.post(setup_url(workspace), data)

    assert response.status_code == 400
    assert error in response.content.decode().replace("&#x27;", "'")
    assert not PaymentMethod.objects.filter(workspace=workspace).exists()


def test_the_expiry_must_be_in_the_future_relative_to_today():
    from gateways.local.forms import CARD_EXPIRED, CardForm

    on = {**CARD, "expiry": "12/30"}
    assert CardForm(on, today=date(2030, 12, 31)).is_valid()
    late = CardForm(on, today=date(2031, 1, 1))
    assert not late.is_valid()
    assert late.errors["expiry"] == [CARD_EXPIRED]
    four_digits = CardForm({**CARD, "expiry": "12/2030"}, today=date(2030, 1, 1))
    assert four_digits.is_valid()
    assert four_digits.cleaned_data["expiry"] == (12, 2030)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BILLING_ADMIN, Role.GUEST, Role.VISITOR])
def test_only_owners_and_admins_reach_the_page(client, workspace, role):
    member = MembershipFactory(workspace=workspace, role=role)
    client.force_login(member.user)

    for response in (client.get(setup_url(workspace)), client.post(setup_url(workspace), CARD)):
        assert response.status_code == 403
        assert "Seuls le propriétaire et les administrateurs" in response.content.decode()
    assert not PaymentMethod.objects.filter(workspace=workspace).exists()


def test_an_admin_can_save_a_card(client, workspace, admin):
    client.force_login(admin.user)
    assert client.post(setup_url(workspace), CARD).status_code == 302
    assert PaymentMethod.objects.filter(workspace=workspace, is_default=True).count() == 1


def test_a_non_member_gets_404(client, workspace, other_workspace):
    outsider = other_workspace.memberships.get(role=Role.OWNER)
    client.force_login(outsider.user)
    assert client.get(setup_url(workspace)).status_code == 404
    assert client.post(setup_url(workspace), CARD).status_code == 404
    assert not PaymentMethod.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, workspace):
    response = client.get(setup_url(workspace))
    assert response.status_code == 302
    assert urlparse(response["Location"]).path == "/accounts/login/"


def test_an_expired_link_is_refused_clearly(client, workspace, owner):
    client.force_login(owner.user)
    url = setup_url(workspace)
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        response = client.post(url, CARD)
    assert response.status_code == 400
    assert "Ce lien de paiement a expiré." in response.content.decode()
    assert not PaymentMethod.objects.exists()


def test_a_tampered_link_is_refused(client, workspace, owner):
    client.force_login(owner.user)
    response = client.get("/pay/setup/not-a-signed-token/")
    assert response.status_code == 400
    assert "Ce lien de paiement n'est pas valide." in response.content.decode().replace("&#x27;", "'")


def test_a_link_for_an_unknown_workspace_is_404(client, owner):
    from workspaces.models import Workspace

    client.force_login(owner.user)
    ghost = Workspace(name="Ghost")
    assert client.get(setup_url(ghost)).status_code == 404


def test_the_current_card_is_shown(client, workspace, owner):
    client.force_login(owner.user)
    client.post(setup_url(workspace), CARD)
    page = client.get(setup_url(workspace)).content.decode()
    assert "Carte actuelle : Visa se terminant par 4242, expire le 12/2039." in page
    assert "4242424242424242" not in page


def test_a_stranger_with_a_valid_link_is_404(client, workspace):
    client.force_login(UserFactory())
    assert client.get(setup_url(workspace)).status_code == 404


def test_operators_expire_a_subscription_through_the_service(client, workspace, owner, other_workspace):
    from subscriptions.models import EventKind, Subscription, SubscriptionEvent
    from tests.factories import SubscriptionFactory, subscribe
    from tests.subscriptions.conftest import at, save_card

    save_card(workspace, owner)
    subscribe(workspace, owner, "business", now=at(2026, 4, 1))
    other = SubscriptionFactory(workspace=other_workspace, plan_code="business", now=at(2026, 4, 1))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    subscription = Subscription.objects.get(workspace=workspace)

    response = client.post(
        "/admin/subscriptions/subscription/",
        {"action": "expire_now", "_selected_action": [subscription.pk]},
        follow=True,
    )

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.plan.is_free
    assert SubscriptionEvent.objects.filter(workspace=workspace, kind=EventKind.EXPIRED).count() == 1
    other.refresh_from_db()
    assert other.plan.code == "business"


def test_the_catalog_is_editable_and_subscriptions_read_only_in_the_admin(client, workspace):
    from billing.services import subscription_start_free
    from subscriptions.models import Plan
    from tests.subscriptions.conftest import at

    subscription = subscription_start_free(workspace=workspace, now=at(2026, 4, 1))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    plan_page = client.get(f"/admin/subscriptions/plan/{Plan.objects.get(code='business').pk}/change/")
    subscription_page = client.get(f"/admin/subscriptions/subscription/{subscription.pk}/change/")

    assert plan_page.status_code == 200
    assert 'name="rank"' in plan_page.content.decode()
    assert subscription_page.status_code == 200
    assert 'name="status"' not in subscription_page.content.decode()
    assert client.get("/admin/subscriptions/subscription/add/").status_code == 403
