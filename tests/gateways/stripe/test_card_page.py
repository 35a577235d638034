"""The card page (``/<workspace>/workspace/payment/card/``) and "Mettre à jour le paiement"
(docs/rules/payments.md#stripe): a SetupIntent of the workspace's Customer confirmed by
Stripe.js, read back from Stripe before anything is saved; owners and admins only."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlparse
from uuid import uuid4

import pytest
import time_machine
from django.urls import reverse

from gateways.stripe.client import client as stripe_api
from invoices.models import Invoice, InvoiceStatus
from subscriptions.models import PaymentMethod, Subscription
from tests.factories import MembershipFactory, UserFactory, subscribe
from tests.gateways.stripe.support import (
    VISA_DECLINED,
    VISA_OK,
    VISA_REFUSED,
    Network,
    card_method,
    client_secret_on,
    confirmed_setup_intent,
    customer_of,
    flashed,
    french,
    page_text,
    save_card,
    tick,
)
from tests.subscriptions.conftest import at
from workspaces.models import Role

pytestmark = pytest.mark.django_db

NOW = at(2026, 4, 1, 15)
INVALID_CONFIRMATION = "This card confirmation is not valid."


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def card_url(workspace, back: str | None = None) -> str:
    url = reverse("stripe_card_setup", args=[workspace.pk])
    return f"{url}?next={back}" if back else url


def billing_url(workspace) -> str:
    return reverse("subscription_billing", args=[workspace.pk])


def card_error_on(response) -> str:
    match = re.search(r'<p id="card-errors"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    assert match is not None
    return html.unescape(match.group(1)).strip()


def _cards(workspace) -> list[tuple[str, str, int, int]]:
    return list(
        PaymentMethod.objects.filter(workspace=workspace, is_default=True).values_list(
            "brand", "last4", "exp_month", "exp_year"
        )
    )


# --- the form --------------------------------------------------------------------------------


def test_the_page_sets_up_a_card_for_the_workspaces_customer_with_stripe_js(
    client, settings, workspace, owner
):
    client.force_login(owner.user)

    response = client.get(card_url(workspace))

    assert response.status_code == 200
    body = response.content.decode()
    secret = client_secret_on(response)
    intent = stripe_api().v1.setup_intents.retrieve(secret.split("_secret_")[0])
    assert intent.client_secret == secret
    assert (intent.customer, intent.usage, intent.status) == (
        customer_of(workspace),
        "off_session",
        "requires_payment_method",
    )
    assert f'<script src="{settings.STRIPE_JS_URL}"></script>' in body
    assert f'data-stripe-key="{settings.STRIPE_PUBLISHABLE_KEY}"' in body
    assert 'name="setup_intent"' in body
    assert "Paiement sécurisé" in page_text(response)
    assert "Enregistrer la carte" in page_text(response)
    # Without a return address, Cancel goes back to the billing tab.
    assert f'href="{billing_url(workspace)}"' in body


def test_each_visit_sets_up_a_new_intent(client, workspace, owner):
    client.force_login(owner.user)

    first = client_secret_on(client.get(card_url(workspace)))
    second = client_secret_on(client.get(card_url(workspace)))

    assert first != second


def test_the_current_card_is_shown_never_its_number(client, workspace, owner):
    save_card(workspace, owner, VISA_OK, now=NOW)
    client.force_login(owner.user)

    page = client.get(card_url(workspace))

    current = french("Current card: %(brand)s ending in %(last4)s, expires %(month)s/%(year)s.") % {
        "brand": "Visa",
        "last4": "4242",
        "month": "12",
        "year": "2039",
    }
    assert current.startswith("Carte actuelle : Visa se terminant par 4242")
    assert current in page_text(page)
    assert VISA_OK not in page.content.decode()


def test_a_page_stripe_cannot_reach_says_so_and_offers_no_form(
    client, settings, monkeypatch, workspace, owner
):
    client.force_login(owner.user)
    Network(settings, monkeypatch).down()

    response = client.get(card_url(workspace))

    assert response.status_code == 503
    assert card_error_on(response) == "Le paiement n'a pas pu être traité. Réessayez dans quelques minutes."
    assert 'data-client-secret=""' in response.content.decode()


# --- saving ----------------------------------------------------------------------------------


def test_a_confirmed_card_is_saved_with_brand_last4_and_expiry_then_back_to_next(
    client, workspace, owner, other_workspace
):
    client.force_login(owner.user)
    back = f"/{workspace.pk}/workspace/members/"
    setup = confirmed_setup_intent(customer_of(workspace), VISA_OK, exp_month=7, exp_year=2031)

    response = client.post(card_url(workspace, back), {"setup_intent": setup})

    assert response.status_code == 302
    assert response["Location"] == back
    assert _cards(workspace) == [("Visa", "4242", 7, 2031)]
    token = PaymentMethod.objects.get(workspace=workspace).card_token
    assert token == stripe_api().v1.setup_intents.retrieve(setup).payment_method
    assert stripe_api().v1.payment_methods.retrieve(token).customer == customer_of(workspace)
    assert flashed(response) == ["Méthode de paiement enregistrée : Visa se terminant par 4242."]
    assert not PaymentMethod.objects.filter(workspace=other_workspace).exists()


def test_the_saved_message_shows_on_the_page_returned_to(client, workspace, owner):
    client.force_login(owner.user)
    setup = confirmed_setup_intent(customer_of(workspace), VISA_OK)

    response = client.post(card_url(workspace), {"setup_intent": setup}, follow=True)

    assert response.redirect_chain == [(billing_url(workspace), 302)]
    assert "Méthode de paiement enregistrée : Visa se terminant par 4242." in page_text(response)


def test_an_intent_of_another_workspaces_customer_is_refused(client, workspace, owner, other_workspace):
    client.force_login(owner.user)
    foreign = confirmed_setup_intent(customer_of(other_workspace), VISA_OK)

    response = client.post(card_url(workspace), {"setup_intent": foreign})

    assert response.status_code == 400
    assert card_error_on(response) == french(INVALID_CONFIRMATION)
    assert not PaymentMethod.objects.exists()
    assert client_secret_on(response)  # the form is offered again


@pytest.mark.parametrize(
    ("posted", "error"),
    [
        ("", INVALID_CONFIRMATION),
        ("not-a-setup-intent", INVALID_CONFIRMATION),
        ("pi_123", INVALID_CONFIRMATION),
        # Stripe knows no such intent (it answers 404): nothing to read back.
        ("seti_unknown0000000", "Cette confirmation de carte n'est pas valide."),
    ],
)
def test_a_bad_intent_id_is_refused_clearly_and_saves_nothing(client, workspace, owner, posted, error):
    client.force_login(owner.user)

    response = client.post(card_url(workspace), {"setup_intent": posted})

    assert response.status_code == 400
    assert card_error_on(response) == french(error)
    assert not PaymentMethod.objects.exists()


def test_a_card_stripe_refused_is_not_saved_and_the_page_says_why(client, workspace, owner):
    client.force_login(owner.user)
    intent = stripe_api().v1.setup_intents.create(
        params={"customer": customer_of(workspace), "usage": "off_session", "payment_method_types": ["card"]}
    )
    with pytest.raises(Exception, match="declined"):
        stripe_api().v1.setup_intents.confirm(intent.id, params={"payment_method": card_method(VISA_REFUSED)})

    response = client.post(card_url(workspace), {"setup_intent": intent.id})

    assert response.status_code == 400
    assert card_error_on(response) == "La carte a été refusée."
    assert not PaymentMethod.objects.exists()


def test_an_intent_the_browser_never_confirmed_saves_nothing(client, workspace, owner):
    client.force_login(owner.user)
    secret = client_secret_on(client.get(card_url(workspace)))

    response = client.post(card_url(workspace), {"setup_intent": secret.split("_secret_")[0]})

    assert response.status_code == 400
    assert not PaymentMethod.objects.exists()


def test_a_new_card_pays_the_invoice_in_dunning(client, billed_workspace, owner):
    subscribe(billed_workspace, owner, "business", now=at(2026, 3, 1, 9))
    save_card(billed_workspace, owner, VISA_DECLINED, now=at(2026, 3, 20))
    tick(at(2026, 4, 1, 0, 5))
    renewal = Invoice.objects.get(workspace=billed_workspace, source__startswith="renewal:")
    assert renewal.status == InvoiceStatus.FAILED
    client.force_login(owner.user)

    response = client.post(
        card_url(billed_workspace), {"setup_intent": confirmed_setup_intent(customer_of(billed_workspace))}
    )

    renewal.refresh_from_db()
    assert (renewal.status, renewal.paid_at, renewal.amount_due_cents) == (InvoiceStatus.PAID, NOW, 2_400)
    assert Subscription.objects.get(workspace=billed_workspace).status == "active"
    assert flashed(response) == [
        "Méthode de paiement enregistrée : Visa se terminant par 4242.",
        "1 facture impayée a été réglée avec cette carte.",
    ]


def test_a_new_card_that_is_declined_too_says_the_invoice_is_still_unpaid(client, billed_workspace, owner):
    subscribe(billed_workspace, owner, "business", now=at(2026, 3, 1, 9))
    save_card(billed_workspace, owner, VISA_DECLINED, now=at(2026, 3, 20))
    tick(at(2026, 4, 1, 0, 5))
    client.force_login(owner.user)

    response = client.post(
        card_url(billed_workspace),
        {"setup_intent": confirmed_setup_intent(customer_of(billed_workspace), VISA_DECLINED)},
    )

    renewal = Invoice.objects.get(workspace=billed_workspace, source__startswith="renewal:")
    assert (renewal.status, renewal.attempt_count) == (InvoiceStatus.FAILED, 2)
    assert flashed(response) == [
        "Méthode de paiement enregistrée : Visa se terminant par 0341.",
        "Une facture impayée n'a pas pu être réglée : La carte a été refusée.",
    ]


# --- "Mettre à jour le paiement" and the return address --------------------------------------


def test_update_payment_opens_the_card_page_and_comes_back(client, workspace, owner):
    client.force_login(owner.user)
    back = f"/{workspace.pk}/workspace/members/"

    response = client.post(reverse("subscription_payment_method", args=[workspace.pk]), {"next": back})

    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == reverse("stripe_card_setup", args=[workspace.pk])
    assert parse_qs(location.query) == {"next": [back]}
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert f'href="{back}"' in page.content.decode()
    saved = client.post(
        response["Location"], {"setup_intent": confirmed_setup_intent(customer_of(workspace))}
    )
    assert saved["Location"] == back


@pytest.mark.parametrize(
    "foreign", ["https://evil.example/", "//evil.example/path", "http://testserver.evil.example/"]
)
def test_update_payment_drops_a_foreign_return_url(client, workspace, owner, foreign):
    client.force_login(owner.user)

    response = client.post(reverse("subscription_payment_method", args=[workspace.pk]), {"next": foreign})
    saved = client.post(
        response["Location"], {"setup_intent": confirmed_setup_intent(customer_of(workspace))}
    )

    assert parse_qs(urlparse(response["Location"]).query) == {"next": [f"/{workspace.pk}/workspace/"]}
    assert saved["Location"] == f"/{workspace.pk}/workspace/"


def test_update_payment_drops_a_return_url_into_another_workspace(client, workspace, owner, other_workspace):
    client.force_login(owner.user)
    elsewhere = f"/{other_workspace.pk}/workspace/"

    response = client.post(reverse("subscription_payment_method", args=[workspace.pk]), {"next": elsewhere})

    assert parse_qs(urlparse(response["Location"]).query) == {"next": [f"/{workspace.pk}/workspace/"]}


@pytest.mark.parametrize(
    "foreign",
    ["https://evil.example/", "//evil.example/", "/{other}/workspace/", "javascript:alert(1)"],
)
def test_the_card_page_itself_never_returns_to_a_foreign_url(
    client, workspace, owner, other_workspace, foreign
):
    client.force_login(owner.user)
    url = card_url(workspace, foreign.format(other=other_workspace.pk))

    page = client.get(url)
    saved = client.post(url, {"setup_intent": confirmed_setup_intent(customer_of(workspace))})

    assert f'href="{billing_url(workspace)}"' in page.content.decode()
    assert saved["Location"] == billing_url(workspace)


def test_update_payment_is_post_only(client, workspace, owner):
    client.force_login(owner.user)

    assert client.get(reverse("subscription_payment_method", args=[workspace.pk])).status_code == 405


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_save_a_card(client, workspace, member_with_role, role):
    client.force_login(member_with_role(role).user)

    assert client.get(card_url(workspace)).status_code == 200
    response = client.post(
        card_url(workspace), {"setup_intent": confirmed_setup_intent(customer_of(workspace))}
    )

    assert response.status_code == 302
    assert _cards(workspace) == [("Visa", "4242", 12, 2039)]


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER, Role.GUEST, Role.VISITOR])
def test_other_roles_get_the_refusal_page(client, workspace, role):
    member = MembershipFactory(workspace=workspace, role=role)
    setup = confirmed_setup_intent(customer_of(workspace))
    client.force_login(member.user)

    for response in (
        client.get(card_url(workspace)),
        client.post(card_url(workspace), {"setup_intent": setup}),
        client.post(reverse("subscription_payment_method", args=[workspace.pk]), {"next": "/"}),
    ):
        assert response.status_code == 403
        assert "Seuls le propriétaire et les administrateurs" in page_text(response)
    assert not PaymentMethod.objects.exists()


def test_a_non_member_gets_404(client, workspace, other_workspace):
    outsider = other_workspace.memberships.get(role=Role.OWNER)
    setup = confirmed_setup_intent(customer_of(workspace))
    client.force_login(outsider.user)

    assert client.get(card_url(workspace)).status_code == 404
    assert client.post(card_url(workspace), {"setup_intent": setup}).status_code == 404
    assert client.post(reverse("subscription_payment_method", args=[workspace.pk])).status_code == 404
    assert not PaymentMethod.objects.exists()


def test_a_signed_in_stranger_and_an_unknown_workspace_get_404(client, workspace):
    client.force_login(UserFactory())

    assert client.get(card_url(workspace)).status_code == 404
    assert client.get(f"/{uuid4()}/workspace/payment/card/").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, workspace):
    response = client.get(card_url(workspace))

    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == reverse("account_login")
    assert parse_qs(location.query)["next"] == [card_url(workspace)]
    assert client.post(card_url(workspace), {"setup_intent": "seti_x"}).status_code == 302
    assert not PaymentMethod.objects.exists()
