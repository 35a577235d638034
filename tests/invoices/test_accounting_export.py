"""The accounting export of a month (one row per document and VAT rate) and the ZIP of the
month's PDFs, on the Billing tab and for operators (docs/rules/invoices.md#accounting-export)."""

import io
import zipfile
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from invoices import services
from invoices.models import Invoice
from tests.factories import UserFactory
from tests.invoices.conftest import plan_line
from workspaces.models import Role

pytestmark = pytest.mark.django_db

MARCH_10 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
# 23:30 UTC on 31 March is 1:30 on 1 April in Paris: an April document.
APRIL_1_PARIS = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)


@pytest.fixture
def march(workspace, other_workspace, make_invoice):
    """An invoice of 240,00 € HT and its cancelling credit note in March; an April invoice;
    another tenant's March invoice."""
    invoice = make_invoice(workspace, plan_line(24_000), now=MARCH_10)
    services.invoice_void(invoice=invoice, now=MARCH_10)
    credit_note = Invoice.objects.get(corrects=invoice)
    april = make_invoice(workspace, plan_line(1_000), now=APRIL_1_PARIS)
    foreign = make_invoice(other_workspace, plan_line(5_000), now=MARCH_10)
    return invoice, credit_note, april, foreign


def _get(client, membership, name, month):
    client.force_login(membership.user)
    return client.get(reverse(name, kwargs={"workspace_id": membership.workspace_id}), {"month": month})


def test_the_month_export_has_one_row_per_document_in_the_accountants_columns(client, owner, march):
    invoice, credit_note, _april, _foreign = march

    response = _get(client, owner, "invoices_accounting_csv", "2026-03")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="comptabilite-2026-03.csv"'
    assert response.content.decode().splitlines() == [
        "Date;Numéro;Type;Client;N° TVA client;Compte;HT;Taux TVA (%);TVA;TTC;Devise",
        f"10/03/2026;{invoice.number};Facture;Acme Test;;706000;240,00;20,00;48,00;288,00;EUR",
        f"10/03/2026;{credit_note.number};Avoir;Acme Test;;706000;-240,00;20,00;-48,00;-288,00;EUR",
    ]


def test_in_english_the_export_uses_commas_and_decimal_points(client, owner, march):
    invoice, credit_note, _april, _foreign = march
    client.cookies["django_language"] = "en"

    response = _get(client, owner, "invoices_accounting_csv", "2026-03")

    assert response.content.decode().splitlines() == [
        "Date,Number,Type,Customer,Customer VAT number,Account,Excl. VAT,VAT rate (%),VAT,Incl. VAT,Currency",
        f"2026-03-10,{invoice.number},Invoice,Acme Test,,706000,240.00,20.00,48.00,288.00,EUR",
        f"2026-03-10,{credit_note.number},Credit note,Acme Test,,706000,-240.00,20.00,-48.00,-288.00,EUR",
    ]


def test_a_reverse_charged_document_goes_to_its_own_account_at_zero_percent(
    client, workspace, owner, make_invoice
):
    workspace.country, workspace.vat_number = "DE", "DE136695976"
    workspace.save()
    invoice = make_invoice(workspace, plan_line(10_000), now=MARCH_10)

    rows = _get(client, owner, "invoices_accounting_csv", "2026-03").content.decode().splitlines()

    assert rows[1:] == [
        f"10/03/2026;{invoice.number};Facture;Acme Test;DE136695976;706200;100,00;0,00;0,00;100,00;EUR"
    ]


def test_the_month_zip_holds_the_months_pdfs_and_the_export(client, owner, march):
    invoice, credit_note, april, foreign = march

    response = _get(client, owner, "invoices_month_zip", "2026-03")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="factures-2026-03.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == sorted(
        ["comptabilite-2026-03.csv", f"{invoice.number}.pdf", f"{credit_note.number}.pdf"]
    )
    stored = Invoice.objects.get(pk=invoice.pk)
    with stored.pdf.open("rb") as handle:
        assert archive.read(f"{invoice.number}.pdf") == handle.read()
    april_rows = _get(client, owner, "invoices_accounting_csv", "2026-04").content.decode().splitlines()
    assert [row.split(";")[1] for row in april_rows[1:]] == [april.number]


@pytest.mark.parametrize("month", ["2026-13", "march", "2026-3", "2026-03-01"])
def test_a_month_that_is_not_one_is_refused(client, owner, month):
    response = _get(client, owner, "invoices_accounting_csv", month)
    assert response.status_code == 400
    assert response.content.decode() == "Choisissez un mois au format AAAA-MM, par exemple 2026-03."


@pytest.mark.parametrize("role", [Role.MEMBER, Role.GUEST, Role.VISITOR])
def test_only_billing_readers_export(client, member_with_role, march, role):
    for name in ("invoices_accounting_csv", "invoices_month_zip"):
        assert _get(client, member_with_role(role), name, "2026-03").status_code == 403


def test_the_billing_tab_offers_both_for_a_month(client, owner, march):
    client.force_login(owner.user)
    html = client.get(
        reverse("subscription_billing", kwargs={"workspace_id": owner.workspace_id})
    ).content.decode()
    assert "Export comptable (CSV)" in html
    assert "Factures du mois (ZIP)" in html


def test_operators_download_the_selected_documents_as_a_zip(client, march):
    invoice, credit_note, april, foreign = march
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:invoices_invoice_changelist"),
        {"action": "download_zip", "_selected_action": [invoice.pk, credit_note.pk, foreign.pk]},
    )

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == sorted(
        ["accounting.csv", f"{invoice.number}.pdf", f"{credit_note.number}.pdf", f"{foreign.number}.pdf"]
    )
    rows = archive.read("accounting.csv").decode().splitlines()
    assert [row.split(";")[3] for row in rows[1:]] == ["Acme Test", "Acme Test", "Other Corp"]


def test_without_a_month_the_export_is_the_current_months(client, owner, march):
    import time_machine

    invoice, credit_note, _april, _foreign = march
    client.force_login(owner.user)
    with time_machine.travel("2026-03-20T12:00:00+01:00", tick=False):
        response = client.get(reverse("invoices_accounting_csv", kwargs={"workspace_id": owner.workspace_id}))

    assert response.status_code == 200
    numbers = {row.split(";")[1] for row in response.content.decode().splitlines()[1:]}
    assert numbers == {invoice.number, credit_note.number}
