"""Billing details, self-serve in Settings: checked (VAT number, SIREN/SIRET, emails), copied
onto each document at issue, never altering an issued one (docs/rules/invoices.md#billing-details)."""

import hashlib

import pytest
from django.urls import reverse
from django.utils.html import escape

from invoices import pdf, services
from invoices.models import BillingDetails, Invoice
from tests.invoices.conftest import NOW, plan_line
from tests.invoices.pdftext import extract_text
from workspaces.models import Role, Workspace

pytestmark = pytest.mark.django_db

GERMAN_BUYER = {
    "legal_name": "Beispiel GmbH",
    "street": "Friedrichstraße 10\nAufgang B",
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
    "billing_email": "rechnung@beispiel.de",
    "extra_emails": "buchhaltung@beispiel.de",
    "vat_number": "DE 136 695 976",
    "registration_number": "",
    "purchase_order": "PO-2026-17",
    "language": "fr",
}


def _post(client, membership, data):
    client.force_login(membership.user)
    url = reverse("workspace_billing_details", kwargs={"workspace_id": membership.workspace_id})
    return client.post(url, data)


def test_a_german_buyer_with_a_valid_vat_number_is_reverse_charged_with_the_mention(
    client, workspace, owner, make_invoice
):
    response = _post(client, owner, GERMAN_BUYER)
    assert response.status_code == 302

    workspace.refresh_from_db()
    assert (workspace.country, workspace.vat_number, workspace.billing_email) == (
        "DE",
        "DE136695976",
        "rechnung@beispiel.de",
    )
    invoice = make_invoice(Workspace.objects.get(pk=workspace.pk), plan_line(10_000))

    assert invoice.reverse_charge is True
    assert (invoice.vat_cents, invoice.total_cents) == (0, 10_000)
    assert invoice.buyer_name == "Beispiel GmbH"
    assert invoice.parties["buyer"] == {
        "street": "Friedrichstraße 10\nAufgang B",
        "postal_code": "10117",
        "city": "Berlin",
        "registration_number": "",
        "purchase_order": "PO-2026-17",
    }
    text = extract_text(pdf.render_invoice_pdf(invoice))
    for expected in [
        "Beispiel GmbH",
        "Friedrichstraße 10",
        "10117 Berlin",
        "Allemagne",
        "N° de TVA intracommunautaire : DE136695976",
        "Bon de commande : PO-2026-17",
        "Autoliquidation — article 283-2 du CGI · VAT reverse charge",
        "Total TTC\n100,00\u00a0€",
    ]:
        assert expected in text, expected


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"vat_number": "DE136695977"},
            "vat_number",
            "Ce numéro de TVA n'est pas valide : vérifiez son préfixe de pays, sa longueur et ses chiffres.",
        ),
        (
            {"vat_number": "FR68900000001"},
            "vat_number",
            "Ce numéro de TVA appartient à un autre pays que celui de l'adresse de facturation.",
        ),
        (
            {"registration_number": "900000001"},
            "registration_number",
            "Un SIREN ou un SIRET identifie une entreprise française : laissez-le vide pour un autre pays.",
        ),
        (
            {"country": "FR", "vat_number": "", "registration_number": "900000002"},
            "registration_number",
            "Ce n'est ni un SIREN valide (9 chiffres) ni un SIRET valide (14 chiffres).",
        ),
        (
            {"extra_emails": "compta@beispiel.de\nnot an email"},
            "extra_emails",
            "Saisissez des adresses e-mail valides, une par ligne.",
        ),
    ],
)
def test_a_refused_detail_is_shown_in_the_form_and_nothing_is_saved(
    client, workspace, owner, changes, field, message
):
    before = Workspace.objects.filter(pk=workspace.pk).values("country", "vat_number", "billing_email").get()

    response = _post(client, owner, {**GERMAN_BUYER, **changes})

    assert response.status_code == 400
    assert response.context["details_form"].errors[field] == [message]
    assert escape(message) in response.content.decode()
    assert (
        Workspace.objects.filter(pk=workspace.pk).values("country", "vat_number", "billing_email").get()
        == before
    )
    assert not BillingDetails.objects.filter(workspace=workspace).exists()


def test_a_french_buyer_gives_a_siret_and_pays_french_vat(client, workspace, owner, make_invoice):
    response = _post(
        client,
        owner,
        {
            **GERMAN_BUYER,
            "legal_name": "Exemple SARL",
            "country": "FR",
            "vat_number": "68900000001",  # typed without its prefix
            "registration_number": "900 000 001 00017",
            "postal_code": "69001",
            "city": "Lyon",
        },
    )
    assert response.status_code == 302
    details = BillingDetails.objects.get(workspace=workspace)
    assert details.registration_number == "90000000100017"
    workspace.refresh_from_db()
    assert workspace.vat_number == "FR68900000001"

    invoice = make_invoice(Workspace.objects.get(pk=workspace.pk), plan_line(10_000))

    assert invoice.reverse_charge is False
    assert (invoice.vat_cents, invoice.total_cents) == (2_000, 12_000)
    assert "SIRET : 90000000100017" in extract_text(pdf.render_invoice_pdf(invoice))


def test_changing_the_details_after_issue_leaves_the_issued_pdf_byte_identical(
    client, workspace, owner, make_invoice
):
    assert _post(client, owner, {**GERMAN_BUYER, "country": "FR", "vat_number": ""}).status_code == 302
    invoice = make_invoice(Workspace.objects.get(pk=workspace.pk), plan_line(10_000))
    stored = services.invoice_pdf_ensure(invoice=invoice)
    recorded = Invoice.objects.get(pk=invoice.pk).pdf_sha256

    assert (
        _post(client, owner, {**GERMAN_BUYER, "legal_name": "Neuer Name AG", "city": "München"}).status_code
        == 302
    )

    again = services.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice.pk))
    with again.pdf.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == recorded
    assert again.pdf.name == stored.pdf.name
    issued = Invoice.objects.get(pk=invoice.pk)
    assert (issued.buyer_name, issued.buyer_country, issued.parties["buyer"]["city"]) == (
        "Beispiel GmbH",
        "FR",
        "Berlin",
    )
    # The next document is made out to the new details.
    later = make_invoice(Workspace.objects.get(pk=workspace.pk), plan_line(10_000))
    assert (later.buyer_name, later.buyer_country, later.parties["buyer"]["city"]) == (
        "Neuer Name AG",
        "DE",
        "München",
    )


def test_the_invoice_language_is_the_billing_language_fixed_at_issue(client, workspace, owner, make_invoice):
    assert _post(client, owner, {**GERMAN_BUYER, "language": "en"}).status_code == 302
    invoice = make_invoice(Workspace.objects.get(pk=workspace.pk), plan_line(10_000))
    assert invoice.language == "en"

    text = extract_text(pdf.render_invoice_pdf(invoice))

    assert "Invoice" in text
    assert "Subtotal excl. VAT\n€100.00" in text
    # Where French law requires French, the mention is in both languages.
    assert (
        "Fixed compensation for recovery costs: 40 € · Indemnité forfaitaire pour frais de recouvrement : 40 €"
        in text
    )
    assert "Late payment penalties: three times the legal interest rate · Pénalités de retard" in text
    # Changing the language later does not change the issued document.
    assert _post(client, owner, {**GERMAN_BUYER, "language": "fr"}).status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).language == "en"


def test_receipts_go_to_the_other_billing_emails_too(client, workspace, owner, make_invoice, mailoutbox):
    assert _post(client, owner, GERMAN_BUYER).status_code == 302
    invoice = make_invoice(Workspace.objects.get(pk=workspace.pk), plan_line(10_000))
    from billing.services import settlement

    settlement.invoice_pay(invoice=invoice, now=NOW, payment_reference="test")
    services.invoice_receipt_send(invoice=Invoice.objects.get(pk=invoice.pk), now=NOW)

    [message] = [m for m in mailoutbox if invoice.number in m.subject]
    assert "buchhaltung@beispiel.de" in message.to
    assert "rechnung@beispiel.de" in message.to


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN])
def test_owners_admins_and_billing_admins_see_and_save_the_form(client, member_with_role, role):
    membership = member_with_role(role)
    client.force_login(membership.user)
    page = client.get(reverse("workspace_settings", kwargs={"workspace_id": membership.workspace_id}))
    assert "Informations de facturation" in page.content.decode()
    assert _post(client, membership, GERMAN_BUYER).status_code == 302


@pytest.mark.parametrize("role", [Role.MEMBER, Role.GUEST, Role.VISITOR])
def test_other_roles_neither_see_nor_save_the_details(client, member_with_role, workspace, role):
    membership = member_with_role(role)
    client.force_login(membership.user)
    page = client.get(reverse("workspace_settings", kwargs={"workspace_id": workspace.pk}))
    assert "Informations de facturation" not in page.content.decode()
    response = _post(client, membership, GERMAN_BUYER)
    assert response.status_code == 403
    assert not BillingDetails.objects.filter(workspace=workspace).exists()


def test_another_tenants_details_are_not_found(client, workspace, other_workspace, owner):
    client.force_login(owner.user)
    url = reverse("workspace_billing_details", kwargs={"workspace_id": other_workspace.pk})
    assert client.post(url, GERMAN_BUYER).status_code == 404
    assert not BillingDetails.objects.filter(workspace=other_workspace).exists()


def test_the_online_vat_check_is_a_hook_off_by_default(client, workspace, owner, settings):
    assert settings.VAT_NUMBER_ONLINE_CHECK == ""
    settings.VAT_NUMBER_ONLINE_CHECK = "tests.invoices.test_billing_details.vies_says_unknown"

    response = _post(client, owner, GERMAN_BUYER)

    assert response.status_code == 400
    assert response.context["details_form"].errors["vat_number"] == [
        "Ce numéro de TVA n'est pas enregistré dans le service VIES de l'Union européenne."
    ]
    assert VIES_ASKED == ["DE136695976"]


VIES_ASKED: list[str] = []


def vies_says_unknown(vat_number: str) -> bool:
    """The hook's contract: given the compact number, answer whether VIES knows it."""
    VIES_ASKED.append(vat_number)
    return False
