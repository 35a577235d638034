"""CSV export of a workspace's invoices."""

import csv
import io
from datetime import timedelta

from django.utils import translation

from billing import services as billing
from invoices.exports import invoices_csv
from tests.invoices.conftest import NOW, plan_line


def test_csv_lists_the_workspaces_invoices_newest_first(workspace, other_workspace, make_invoice, hook_calls):
    workspace.country, workspace.vat_number = "DE", "DE123456789"
    workspace.save()
    march = make_invoice(workspace, plan_line(15_900))
    april = make_invoice(workspace, plan_line(15_900), now=NOW + timedelta(days=31))
    billing.invoice_pay(invoice=march, now=NOW + timedelta(hours=1))
    make_invoice(other_workspace, plan_line(99_900))

    with translation.override("fr"):
        rows = list(csv.reader(io.StringIO(invoices_csv(workspace))))

    assert rows[0] == [
        "Numéro", "Date d'émission", "Date d'échéance", "Statut", "Motif", "Sous-total HT", "Taux de TVA (%)",
        "TVA", "Total TTC", "Crédit de compte appliqué", "Montant dû", "Devise", "Payée le", "Autoliquidation",
    ]  # fmt: skip
    assert rows[1:] == [
        [april.number, "2026-04-10", "2026-04-10", "En attente", "Renouvellement", "159.00", "20.00", "0.00",
         "159.00", "0.00", "159.00", "EUR", "", "1"],
        [march.number, "2026-03-10", "2026-03-10", "Payée", "Renouvellement", "159.00", "20.00", "0.00",
         "159.00", "0.00", "159.00", "EUR", "2026-03-10", "1"],
    ]  # fmt: skip


def test_csv_of_a_workspace_without_invoices_has_only_the_header(workspace, other_workspace, make_invoice):
    make_invoice(other_workspace)
    with translation.override("en"):
        rows = list(csv.reader(io.StringIO(invoices_csv(workspace))))
    assert len(rows) == 1
    assert rows[0][0] == "Number"
