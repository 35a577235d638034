"""An invoice the account credit pays in full is never sent to the card
(docs/rules/invoices.md#totals: an invoice with nothing left to pay is paid at once)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from billing.seat_sweeps import run_seat_sweeps
from billing.services import charge_invoice
from invoices.models import Charge, Invoice, InvoiceStatus
from invoices.selectors import account_balance_cents
from teams import services
from tests.factories.invoices import DraftInvoiceFactory, DraftInvoiceLineFactory
from tests.teams.conftest import MARCH_1, at, join

pytestmark = pytest.mark.django_db


def test_a_seat_invoice_covered_by_the_account_credit_is_paid_without_charging_the_card(
    workspace, owner, pro_annual, add_members, other_workspace
):
    add_members(2)  # the owner and 2 members: Pro's 3 included seats are taken
    with time_machine.travel(at(MARCH_1), tick=False):
        paid = join(workspace, owner, "paid@team.test")
    run_seat_sweeps(now=at(date(2026, 3, 2)))
    # March to December: 89,99 € × 10/12 = 74,991… → 74,99 €, + VAT 15,00 € = 89,99 € charged.
    assert list(Charge.objects.values_list("amount_cents", flat=True)) == [8_999]

    june = at(date(2026, 6, 10))
    services.member_remove(workspace=workspace, actor=owner, membership=paid, now=june)
    # July to December given back by a credit note: 89,99 € × 6/12 = 44,995 € → 45,00 € HT,
    # + VAT 9,00 € = 54,00 € on the account balance.
    assert account_balance_cents(workspace) == 5_400

    with time_machine.travel(at(date(2026, 12, 1)), tick=False):
        join(workspace, owner, "december@team.test")
    result = run_seat_sweeps(now=at(date(2026, 12, 2)))

    assert result["seat_invoices"] == 1
    invoice = Invoice.objects.get(workspace=workspace, source__endswith="2026-12-01")
    # December alone: 89,99 € × 1/12 = 7,499… → 7,50 €; VAT 1,50 €; 9,00 €, all of it paid by
    # the 54,00 € of account credit.
    assert (invoice.subtotal_cents, invoice.vat_cents, invoice.total_cents) == (750, 150, 900)
    assert (invoice.account_credit_applied_cents, invoice.amount_due_cents) == (900, 0)
    assert invoice.status == InvoiceStatus.PAID
    assert account_balance_cents(workspace) == 4_500  # 54,00 € − 9,00 €
    # The card was charged once, in March; never for the December invoice.
    assert Charge.objects.count() == 1

    # The charge task run for it anyway (a retry, a replay) does not reach the gateway either.
    outcome = charge_invoice(invoice_id=invoice.pk, attempt=1, now=at(date(2026, 12, 2), 10))
    assert outcome.succeeded
    assert Charge.objects.count() == 1
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due_cents) == (InvoiceStatus.PAID, 0)
    assert not Charge.objects.filter(workspace=other_workspace).exists()


def test_the_charge_itself_never_sends_an_invoice_with_nothing_due_to_the_gateway(workspace, pro_annual):
    # Issuing already writes such an invoice paid; the charge keeps its own guard in case an
    # open one ever reaches it. The row is made by hand: a draft, then finalized open with
    # 7,50 € + 1,50 € VAT = 9,00 €, all of it paid by account credit.
    issued_at = at(date(2026, 12, 2))
    draft = DraftInvoiceFactory(workspace=workspace, source="zero-due", created_at=issued_at)
    DraftInvoiceLineFactory(invoice=draft, kind="seat_proration", description="Seat", amount_cents=750)
    Invoice.objects.filter(pk=draft.pk).update(
        subtotal_cents=750,
        vat_rate_bp=2_000,
        vat_cents=150,
        total_cents=900,
        account_credit_applied_cents=900,
        amount_due_cents=0,
        status=InvoiceStatus.OPEN,
        number="INV-2026-000001",
        issued_at=issued_at,
    )

    outcome = charge_invoice(invoice_id=draft.pk, attempt=1, now=at(date(2026, 12, 2), 10))

    assert outcome.succeeded
    assert not Charge.objects.exists()  # the card on file was never charged
    invoice = Invoice.objects.get(pk=draft.pk)
    assert (invoice.status, invoice.amount_due_cents, invoice.total_cents) == (InvoiceStatus.PAID, 0, 900)
