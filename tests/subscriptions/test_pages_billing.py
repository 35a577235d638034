"""The billing tab: invoices, credit purchases and their exports (seed 001)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.subscriptions.test_pages_support import (
    START,
    add_team,
    bulk_invoices,
    buy_credits,
    get,
    gift_credits,
    text,
    url,
)
from workspaces.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_now(pages_at_now):
    """Every test of this module runs at ``NOW``."""


# --- Billing tab -------------------------------------------------------------------------------


def test_billing_tab_lists_invoices_and_credit_purchases(client, acme):
    workspace = acme["owner"].workspace
    gift_credits(workspace, credits=500_000, when=START + timedelta(days=1))
    paid_by = workspace.invoices.get()
    buy_credits(workspace, credits=3_000_000, paid_cents=1_500, when=START, source=f"invoice:{paid_by.pk}")
    response = get(client, acme["owner"], "subscription_billing")
    assert response.status_code == 200
    page = text(response)
    assert "Factures" in page
    for column in ("Date", "Total de la facture", "Statut", "Action"):
        assert column in page
    # The subscription's first invoice: 280,80 €, paid, with PDF and details links.
    assert "2 oct. 2025" in page
    assert "280,80 €" in page
    assert "Payée" in page
    assert "Télécharger" in page
    assert "Détails" in page
    body = response.content.decode()
    invoice = workspace.invoices.get()
    assert reverse("invoice_pdf", args=[workspace.pk, invoice.pk]) in body
    assert reverse("invoice_detail", args=[workspace.pk, invoice.pk]) in body
    assert reverse("invoices_export_csv", args=[workspace.pk]) in body
    # Credit purchase history
    assert "Historique des achats de crédits" in page
    assert "Quantité" in page
    assert "Montant TTC (€)" in page
    # Every amount is the one paid, VAT included, with the invoice that paid it; credits
    # offered say so instead of a zero amount.
    assert f"2 oct. 2025 3 000 000 15,00 € {paid_by.number}" in page
    assert "3 oct. 2025 500 000 Offerts Aucune" in page
    assert reverse("subscription_credit_purchases_csv", args=[workspace.pk]) in body
    # Not the other workspace's invoices nor purchases
    assert "INV-2024-" not in page
    assert "7 000 000" not in page


def test_open_invoice_shows_pending(client, acme):
    workspace = acme["owner"].workspace
    bulk_invoices(workspace, 1, status="open")
    page = text(get(client, acme["owner"], "subscription_billing"))
    assert "En attente" in page


def test_billing_tab_without_data(client, workspace, other_workspace):
    add_team(workspace)
    page = text(get(client, workspace.memberships.get(role=Role.OWNER), "subscription_billing"))
    assert page.count("Aucune donnée disponible") == 2


def test_invoices_are_paginated_ten_per_page(client, acme):
    workspace = acme["owner"].workspace
    bulk_invoices(workspace, 14)  # 15 with the subscription's own
    first = get(client, acme["owner"], "subscription_billing")
    assert first.content.decode().count("/pdf/") == 10
    assert "Page 1 sur 2" in text(first)
    assert "Suivant" in text(first)
    second = get(client, acme["owner"], "subscription_billing", invoices_page=2)
    assert second.content.decode().count("/pdf/") == 5
    assert "Précédent" in text(second)
    # htmx asks for the table alone
    client.force_login(acme["owner"].user)
    partial = client.get(
        url("subscription_billing", workspace, invoices_page=2),
        headers={"HX-Request": "true", "HX-Target": "invoices-card"},
    )
    assert partial.content.decode().lstrip().startswith('<section class="card" id="invoices-card"')
    assert "Historique des achats de crédits" not in text(partial)
    # A page number past the end shows the last page.
    assert (
        get(client, acme["owner"], "subscription_billing", invoices_page=99).content.decode().count("/pdf/")
        == 5
    )


def test_credit_purchases_csv(client, acme):
    workspace = acme["owner"].workspace
    paid_by = workspace.invoices.get()
    buy_credits(workspace, credits=3_000_000, paid_cents=1_500, when=START, source=f"invoice:{paid_by.pk}")
    gift_credits(workspace, credits=500_000, when=START + timedelta(days=1))
    response = get(client, acme["owner"], "subscription_credit_purchases_csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().strip().splitlines()
    # In French like the invoices export, no internal column.
    assert lines[0] == "Date,Crédits,Montant TTC,Devise,Type,Facture"
    assert lines[1] == "2025-10-03,500000,,EUR,Offerts,"
    assert lines[2] == f"2025-10-02,3000000,15.00,EUR,Acheté,{paid_by.number}"
    assert len(lines) == 3  # not the other workspace's purchase
    assert get(client, acme["member"], "subscription_credit_purchases_csv").status_code == 403


def test_credit_purchases_csv_amounts_are_exact_decimals(client, acme):
    """Money never goes through a float: every cent of a large amount survives the export."""
    workspace = acme["owner"].workspace
    buy_credits(
        workspace, credits=1_000_000, paid_cents=9_007_199_254_740_993, when=START, source="invoice:big"
    )
    response = get(client, acme["owner"], "subscription_credit_purchases_csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[1] == "2025-10-02,1000000,90071992547409.93,EUR,Acheté,"
