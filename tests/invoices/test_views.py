"""Invoice pages: details, PDF download, CSV export; per role and per tenant."""

import pytest
from django.urls import reverse
from django.utils import translation

from billing import services as billing
from invoices import pdf, services
from invoices.models import Invoice
from tests.invoices.conftest import NOW, plan_line
from tests.invoices.pdftext import extract_text
from workspaces.models import Role
from workspaces.permissions import REFUSAL_MESSAGES, Capability

BILLING_READERS = [Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN]
OTHERS = [Role.MEMBER, Role.GUEST, Role.VISITOR]


@pytest.fixture
def invoice(workspace, make_invoice):
    return make_invoice(
        workspace,
        plan_line(24_000),
        # -1 × 100,00 € × 12/30 days = -40,00 €
        plan_line(
            -4_000,
            kind="credit",
            subject="Starter",
            quantity=-1,
            unit_amount_cents=10_000,
            fraction_numerator=12,
            fraction_denominator=30,
            fraction_unit="day",
        ),
    )


def _url(name, workspace, **kwargs):
    return reverse(name, kwargs={"workspace_id": workspace.pk, **kwargs})


def _login(client, membership):
    client.force_login(membership.user)
    return client


@pytest.mark.parametrize("role", BILLING_READERS)
def test_details_page_shows_lines_totals_and_status_in_french(
    client, member_with_role, workspace, invoice, role, django_assert_max_num_queries
):
    _login(client, member_with_role(role))
    with django_assert_max_num_queries(12):
        response = client.get(_url("invoice_detail", workspace, invoice_id=invoice.pk))
    assert response.status_code == 200
    page = response.content.decode()
    for expected in [
        f"Facture {invoice.number}",
        "En attente",
        # Words written from the lines' numbers, in the reader's language.
        "Forfait Business",
        "Temps non utilisé sur Starter",
        "× 100,00\u00a0€",
        "× 12/30 jours",
        "= -40,00\u00a0€",
        "Sous-total HT",
        "200,00\u00a0€",
        "TVA (20,00\u00a0%)",
        "40,00\u00a0€",
        "Total TTC",
        "240,00\u00a0€",
        "Montant dû",
        "1 mars 2026 – 31 mars 2026",
        _url("invoice_pdf", workspace, invoice_id=invoice.pk),
    ]:
        assert expected in page, expected


@pytest.mark.parametrize(
    ("transition", "label"),
    [
        (lambda inv: inv, "En attente"),
        (lambda inv: billing.invoice_pay(invoice=inv, now=NOW), "Payée"),
        (
            lambda inv: services.invoice_mark_payment_failed(
                invoice=inv, now=NOW, next_attempt_at=None, reason="x"
            ),
            "Échouée",
        ),
        (lambda inv: services.invoice_void(invoice=inv, now=NOW), "Annulée"),
        (
            lambda inv: billing.invoice_refund(invoice=billing.invoice_pay(invoice=inv, now=NOW), now=NOW),
            "Remboursée",
        ),
    ],
)
def test_status_labels(client, owner, workspace, invoice, transition, label, hook_calls):
    transition(invoice)
    response = _login(client, owner).get(_url("invoice_detail", workspace, invoice_id=invoice.pk))
    status = Invoice.objects.get(pk=invoice.pk).status
    assert f'invoice-status--{status}">{label}<' in response.content.decode()


@pytest.mark.parametrize("role", OTHERS)
@pytest.mark.parametrize("name", ["invoice_detail", "invoice_pdf"])
def test_members_without_billing_access_are_refused(client, member_with_role, workspace, invoice, role, name):
    response = _login(client, member_with_role(role)).get(_url(name, workspace, invoice_id=invoice.pk))
    assert response.status_code == 403
    with translation.override("fr"):
        assert str(REFUSAL_MESSAGES[Capability.VIEW_BILLING]) in response.content.decode()


@pytest.mark.parametrize("name", ["invoice_detail", "invoice_pdf"])
def test_another_workspaces_invoice_is_not_found(
    client, owner, workspace, other_workspace, make_invoice, name
):
    foreign = make_invoice(other_workspace)
    response = _login(client, owner).get(_url(name, workspace, invoice_id=foreign.pk))
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["invoice_detail", "invoice_pdf"])
def test_a_member_of_the_other_workspace_gets_404(client, other_workspace, workspace, invoice, name):
    outsider = other_workspace.memberships.get(role=Role.OWNER)
    response = _login(client, outsider).get(_url(name, workspace, invoice_id=invoice.pk))
    assert response.status_code == 404


def test_pdf_download_serves_the_stored_file_and_renders_once(client, owner, workspace, invoice, monkeypatch):
    renders = []
    real = pdf.render_invoice_pdf
    monkeypatch.setattr(pdf, "render_invoice_pdf", lambda inv: renders.append(inv.pk) or real(inv))
    client = _login(client, owner)
    url = _url("invoice_pdf", workspace, invoice_id=invoice.pk)

    first = client.get(url)
    second = client.get(url)

    assert first.status_code == second.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert first["Content-Disposition"] == 'attachment; filename="INV-2026-000001.pdf"'
    body = b"".join(first.streaming_content)
    assert body == b"".join(second.streaming_content)
    assert "INV-2026-000001" in extract_text(body)
    assert renders == [invoice.pk]


@pytest.mark.parametrize("role", BILLING_READERS)
def test_csv_export(client, member_with_role, workspace, other_workspace, invoice, make_invoice, role):
    foreign = make_invoice(other_workspace)
    response = _login(client, member_with_role(role)).get(_url("invoices_export_csv", workspace))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="invoices.csv"'
    body = response.content.decode()
    assert body.splitlines()[0].startswith("Numéro,Date d'émission")
    assert (
        f"{invoice.number},2026-03-10,2026-03-10,En attente,Renouvellement,200.00,20.00,40.00,240.00" in body
    )
    assert foreign.number not in body


@pytest.mark.parametrize("role", OTHERS)
def test_csv_export_is_refused_without_billing_access(client, member_with_role, workspace, invoice, role):
    response = _login(client, member_with_role(role)).get(_url("invoices_export_csv", workspace))
    assert response.status_code == 403
