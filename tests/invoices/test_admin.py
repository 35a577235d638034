"""Operators see invoices and the account balance in the admin; changes go through services."""

import pytest
from django.urls import reverse

from invoices import services
from invoices.models import AccountBalanceEntry, Invoice
from tests.factories import UserFactory
from tests.invoices.conftest import NOW


@pytest.fixture
def operator(client, db):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_invoices_are_listed_and_read_only(operator, workspace, make_invoice):
    invoice = make_invoice(workspace)
    listing = operator.get(reverse("admin:invoices_invoice_changelist"))
    assert listing.status_code == 200
    assert invoice.number in listing.content.decode()

    page = operator.get(reverse("admin:invoices_invoice_change", args=[invoice.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Forfait Business — 1 × 240,00\u00a0€ = 240,00\u00a0€" in html
    assert 'name="_save"' not in html
    assert operator.get(reverse("admin:invoices_invoice_add")).status_code == 403
    assert (
        operator.post(
            reverse("admin:invoices_invoice_delete", args=[invoice.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_void_action_goes_through_the_service(operator, workspace, make_invoice):
    services.account_balance_credit(
        workspace=workspace, amount_cents=1_000, currency="EUR", reason="downgrade", source="d:1", now=NOW
    )
    invoice = make_invoice(workspace)
    # Voiding is the workspace page's action, with a reason (docs/rules/operators.md).
    url = (
        reverse("admin:workspaces_workspace_operate", args=[workspace.pk, "void"]) + f"?invoice={invoice.pk}"
    )
    response = operator.post(url, {"reason": "Doublon", "confirm": "1"})
    assert response.status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).status == "void"
    # The service gave the applied account credit back: a new ledger entry, none rewritten.
    assert list(AccountBalanceEntry.objects.order_by("id").values_list("amount_cents", flat=True)) == [
        1_000,
        -1_000,
        1_000,
    ]


def test_account_balance_history_is_read_only(operator, workspace):
    entry = services.account_balance_credit(
        workspace=workspace, amount_cents=1_000, currency="EUR", reason="downgrade", source="d:1", now=NOW
    )
    assert operator.get(reverse("admin:invoices_accountbalanceentry_changelist")).status_code == 200
    page = operator.get(reverse("admin:invoices_accountbalanceentry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert operator.get(reverse("admin:invoices_accountbalanceentry_add")).status_code == 403
