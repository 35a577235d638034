"""What a payer reads on the Overview and Billing tabs (issue: the pages a payer relies
on): the account balance and what the next bill will charge, words that fit the state
(cancelled, Free, a trial without a card), a way to reactivate where the cancellation is
shown, the paid member seats, and the purchase history with its invoices."""

from __future__ import annotations

import pytest
from django.urls import reverse

from invoices.services import account_balance_credit
from subscriptions.models import CancelReason
from tests.factories import subscribe
from tests.subscriptions.test_pages_support import (
    NOW,
    START,
    add_team,
    cancel,
    get,
    owner_of,
    text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_now(pages_at_now):
    """Every test of this module runs at ``NOW`` (12 October 2025)."""


def _credit(workspace, cents: int) -> None:
    account_balance_credit(
        workspace=workspace, amount_cents=cents, currency="EUR", reason="Unused time", source="test:credit",
        now=START,
    )  # fmt: skip


# --- account balance ---------------------------------------------------------------------


def test_the_overview_deducts_the_account_credit_from_the_next_bill(client, acme):
    """Team Starter, 5 extra seats: the 2 November renewal is 280,80 € with VAT; 100,00 €
    on the account balance leaves 180,80 € to pay."""
    workspace = acme["owner"].workspace
    _credit(workspace, 10_000)

    page = text(get(client, acme["owner"], "subscription_overview"))

    assert "Prochaine facturation 2 nov. 2025 · 280,80 € TTC" in page
    assert "Votre crédit de 100,00 € est déduit : 180,80 € à payer." in page
    assert "Solde du compte 100,00 € de crédit" in page


def test_a_credit_larger_than_the_bill_leaves_nothing_to_pay(client, acme):
    workspace = acme["owner"].workspace
    _credit(workspace, 220_000)

    page = text(get(client, acme["billing_admin"], "subscription_overview"))

    assert "Votre crédit de 2 200,00 € est déduit : 0,00 € à payer." in page


def test_members_see_no_balance(client, acme):
    _credit(acme["owner"].workspace, 10_000)

    page = text(get(client, acme["member"], "subscription_overview"))

    assert "Solde du compte" not in page
    assert "crédit de 100,00 €" not in page


def test_the_billing_tab_shows_the_account_balance(client, acme):
    workspace = acme["owner"].workspace
    without = text(get(client, acme["owner"], "subscription_billing"))
    _credit(workspace, 10_000)

    page = text(get(client, acme["owner"], "subscription_billing"))

    assert "Solde du compte" not in without
    assert "Solde du compte 100,00 € de crédit" in page
    assert "déduits automatiquement de vos prochaines factures" in page


# --- words that fit the state --------------------------------------------------------------


def test_a_cancelled_subscription_says_its_credits_end_and_offers_to_reactivate(client, acme):
    workspace = acme["owner"].workspace
    before = text(get(client, acme["owner"], "subscription_overview"))
    cancel(workspace, CancelReason.TOO_EXPENSIVE)

    response = get(client, acme["owner"], "subscription_overview")
    page = text(response)

    assert "Les crédits se renouvellent le 2 nov. 2025." in before
    assert "Les crédits se renouvellent" not in page
    assert (
        "Votre abonnement est annulé : ces crédits restent utilisables jusqu'au 2 nov. 2025 "
        "et ne sont pas renouvelés." in page
    )
    body = response.content.decode()
    assert f'action="{reverse("subscription_reactivate", args=[workspace.pk])}"' in body
    assert "Réactiver l'abonnement" in page


def test_reactivating_from_the_overview_comes_back_to_the_overview(client, acme):
    workspace = acme["owner"].workspace
    cancel(workspace, CancelReason.TOO_EXPENSIVE)
    client.force_login(acme["owner"].user)

    response = client.post(
        reverse("subscription_reactivate", args=[workspace.pk]), {"token": "t-1", "back": "overview"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("subscription_overview", args=[workspace.pk])
    page = text(client.get(response["Location"]))
    assert "Votre abonnement est réactivé." in page
    assert "Renouvellement automatique Actif" in page


def test_members_cannot_reactivate_from_the_overview(client, acme):
    cancel(acme["owner"].workspace, CancelReason.TOO_EXPENSIVE)

    page = text(get(client, acme["member"], "subscription_overview"))

    assert "Réactiver l'abonnement" not in page


def test_free_has_no_automatic_renewal_to_show(client, workspace, other_workspace):
    page = text(get(client, owner_of(workspace), "subscription_overview"))
    settings_page = text(get(client, owner_of(workspace), "subscription_settings"))

    assert "Renouvellement automatique" not in page
    assert "Renouvellement automatique" not in settings_page


def test_a_trial_without_a_card_warns_and_links_to_the_card_page(client, workspace, other_workspace):
    team = add_team(workspace)
    subscribe(workspace, plan="team-starter", now=START, trial=True)

    response = get(client, team["owner"], "subscription_overview")
    page = text(response)

    assert (
        "Aucun moyen de paiement pour l'instant : ajoutez-en un avant le 16 octobre 2025 pour que votre "
        "abonnement continue après l'essai." in page
    )
    assert reverse("stripe_card_setup", args=[workspace.pk]) in response.content.decode()
    assert "Aucun moyen de paiement pour l'instant" not in text(
        get(client, team["member"], "subscription_overview")
    )


def test_a_trial_with_a_card_has_no_warning(client, workspace, other_workspace):
    from tests.subscriptions.test_pages_support import save_card

    team = add_team(workspace)
    subscribe(workspace, plan="team-starter", now=START, trial=True)
    save_card(workspace, now=START)

    assert "Aucun moyen de paiement pour l'instant" not in text(
        get(client, team["owner"], "subscription_overview")
    )


# --- the customization card ----------------------------------------------------------------


def test_paid_member_seats_are_listed_on_a_per_seat_plan(client, workspace, other_workspace):
    """Business bills every seat: the owner and two members hold three paid seats, so the
    card does not say there is nothing extra."""
    add_team(workspace)
    subscribe(workspace, plan="business", now=START)

    page = text(get(client, owner_of(workspace), "subscription_overview"))

    assert "Vous n'avez pas de crédits supplémentaires et de sièges supplémentaires" not in page
    assert "sièges payants de membres" in page


def test_declined_payment_messages_link_to_the_card_page(client, workspace, other_workspace):
    """A plan bought with a declined card: the message says nothing changed and offers the
    card page."""
    from billing import services
    from tests.factories import VISA_DECLINED, price_id
    from tests.subscriptions.test_pages_support import save_card

    save_card(workspace, VISA_DECLINED, now=NOW)
    owner = owner_of(workspace)
    preview = services.preview_subscribe(workspace=workspace, price_id=price_id("pro"), now=NOW)
    client.force_login(owner.user)

    response = client.post(
        reverse("subscription_plan_confirm", args=[workspace.pk]),
        {"price": price_id("pro"), "fingerprint": preview.fingerprint, "token": "tok-1"},
        follow=True,
    )

    page = text(response)
    assert "Rien n'a été modifié" in page
    body = response.content.decode()
    assert f'href="{reverse("stripe_card_setup", args=[workspace.pk])}"' in body


# --- the invoice detail --------------------------------------------------------------------


def _failed_invoice(workspace):
    from invoices.models import Invoice, InvoiceStatus
    from tests.subscriptions.test_pages_support import make_past_due

    make_past_due(workspace)
    return Invoice.objects.get(workspace=workspace, status=InvoiceStatus.FAILED)


def test_a_failed_invoice_says_why_and_offers_to_pay_it_now(client, acme):
    workspace = acme["owner"].workspace
    invoice = _failed_invoice(workspace)
    client.force_login(acme["owner"].user)

    response = client.get(reverse("invoice_detail", args=[workspace.pk, invoice.pk]))

    page = text(response)
    assert "La dernière tentative de paiement a échoué : " in page
    assert invoice.payment_failure_message in page
    # The first retry is a day after the failure of 11 October at 10:00.
    assert "Prochaine tentative le 12 oct. 2025." in page
    body = response.content.decode()
    assert reverse("subscription_invoice_pay", args=[workspace.pk, invoice.pk]) in body
    assert f'href="{reverse("subscription_billing", args=[workspace.pk])}"' in body
    assert "Retour à la facturation" in page


def test_a_billing_admin_reads_the_reason_but_cannot_pay_from_the_invoice(client, acme):
    workspace = acme["owner"].workspace
    invoice = _failed_invoice(workspace)
    client.force_login(acme["billing_admin"].user)

    response = client.get(reverse("invoice_detail", args=[workspace.pk, invoice.pk]))

    assert "La dernière tentative de paiement a échoué" in text(response)
    assert (
        reverse("subscription_invoice_pay", args=[workspace.pk, invoice.pk]) not in response.content.decode()
    )


def test_an_invoice_names_its_credit_notes_and_a_credit_note_links_back(client, acme):
    from invoices.models import Invoice
    from invoices.services import invoice_void

    workspace = acme["owner"].workspace
    invoice = _failed_invoice(workspace)
    invoice_void(invoice=invoice, now=NOW)
    note = Invoice.objects.get(corrects=invoice)
    client.force_login(acme["owner"].user)

    invoice_page = client.get(reverse("invoice_detail", args=[workspace.pk, invoice.pk]))
    note_page = client.get(reverse("invoice_detail", args=[workspace.pk, note.pk]))

    assert f"Avoirs {note.number} · 12 oct. 2025 · -12,19 €" in text(invoice_page).replace("−", "-")
    assert reverse("invoice_detail", args=[workspace.pk, note.pk]) in invoice_page.content.decode()
    assert "Payer maintenant" not in text(invoice_page)
    assert reverse("invoice_detail", args=[workspace.pk, invoice.pk]) in note_page.content.decode()
    # The browser tab names the invoice only (its credit notes are listed in the page).
    title = invoice_page.content.decode().split("<title>")[1].split("</title>")[0]
    assert invoice.number in title
    assert "credit-notes-title" not in title


def test_a_past_due_workspace_is_told_how_to_pay_before_switching_to_annual(client, acme):
    """The unpaid invoice, not the card just saved, is what stands in the way: the modal
    says to pay it or save another card, and links to the card page."""
    from tests.subscriptions.test_pages_support import make_past_due

    workspace = acme["owner"].workspace
    make_past_due(workspace)

    response = get(client, acme["owner"], "subscription_annual")

    page = text(response)
    assert (
        "Une facture est impayée. Réglez-la avec « Payer maintenant » dans Facturation, ou enregistrez "
        "une autre carte, avant de modifier l'abonnement." in page
    )
    assert reverse("stripe_card_setup", args=[workspace.pk]) in response.content.decode()


def test_buying_a_plan_without_a_card_links_to_the_card_page(client, workspace, other_workspace):
    from billing import services
    from tests.factories import price_id

    owner = owner_of(workspace)
    preview = services.preview_subscribe(workspace=workspace, price_id=price_id("pro"), now=NOW)
    client.force_login(owner.user)

    response = client.post(
        reverse("subscription_plan_confirm", args=[workspace.pk]),
        {"price": price_id("pro"), "fingerprint": preview.fingerprint, "token": "tok-no-card"},
    )

    assert response.status_code == 400
    assert "Ajoutez une méthode de paiement avant d'acheter : rien n'a été débité." in text(response)
    assert f'href="{reverse("stripe_card_setup", args=[workspace.pk])}"' in response.content.decode()
