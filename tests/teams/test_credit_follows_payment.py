"""A released seat is credited only for time that was paid for
(docs/rules/proration.md#removing-a-seat): while the invoice that charged it is unpaid,
the credit waits for that payment; if the invoice is cancelled unpaid, nothing is owed
either way.

Pro monthly from 1 March; a member joins on 2 March (12,99 € × 30/31 = 12,57 € HT,
invoiced on 3 March to a card that declines) and is removed on 4 March: the unused time
is 12,99 € × 28/31 = 11,73 € HT, 14,08 € with VAT (4 to 31 March)."""

from __future__ import annotations

import pytest
import time_machine

from invoices.models import DocumentType, Invoice, InvoiceStatus
from invoices.selectors import account_balance_cents
from teams import services as teams
from tests.factories import VISA_DECLINED
from tests.integration.helpers import add_member, at, lines_of, save_card, subscribe, tick

pytestmark = pytest.mark.django_db


def _unpaid_seat(workspace, owner):
    """The member on a paid seat whose invoice was declined, and that invoice."""
    for n in range(2):
        add_member(workspace, owner, f"included{n}@team.test", now=at(2026, 3, 1, 8))
    save_card(workspace, owner, now=at(2026, 3, 1, 8))
    subscribe(workspace, owner, "pro", "month", now=at(2026, 3, 1, 9))
    save_card(workspace, owner, VISA_DECLINED, now=at(2026, 3, 2, 8))
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 2, 9))
    tick(at(2026, 3, 3, 0, 30))
    (seat_invoice,) = Invoice.objects.filter(workspace=workspace, source__startswith="seats:")
    assert (seat_invoice.status, lines_of(seat_invoice)) == (
        InvoiceStatus.FAILED,
        [("seat_proration", 1_257)],
    )
    return paid, seat_invoice


@pytest.fixture
def removed_while_unpaid(workspace, owner):
    paid, seat_invoice = _unpaid_seat(workspace, owner)
    preview = teams.preview_member_removal(
        workspace=workspace, actor=owner, membership=paid, now=at(2026, 3, 4, 9)
    )
    removal = teams.member_remove(workspace=workspace, actor=owner, membership=paid, now=at(2026, 3, 4, 9))

    assert preview.credit_cents == removal.credit_cents == 0
    assert preview.withheld_cents == removal.withheld_cents == 1_408
    assert account_balance_cents(workspace) == 0
    assert not Invoice.objects.filter(workspace=workspace, document_type=DocumentType.CREDIT_NOTE).exists()
    return seat_invoice


def test_the_credit_is_given_once_the_seat_invoice_is_paid(removed_while_unpaid, workspace, owner):
    save_card(workspace, owner, now=at(2026, 3, 5, 9))  # retries the unpaid invoice: paid

    removed_while_unpaid.refresh_from_db()
    assert removed_while_unpaid.status == InvoiceStatus.PAID
    (note,) = Invoice.objects.filter(workspace=workspace, document_type=DocumentType.CREDIT_NOTE)
    assert (note.subtotal_cents, note.total_cents, note.corrects_id) == (
        -1_173,
        -1_408,
        removed_while_unpaid.pk,
    )
    assert account_balance_cents(workspace) == 1_408

    save_card(workspace, owner, now=at(2026, 3, 6, 9))  # nothing more is credited
    assert account_balance_cents(workspace) == 1_408


def test_nothing_is_credited_when_the_seat_invoice_is_cancelled_unpaid(removed_while_unpaid, workspace):
    for day in range(4, 12):
        tick(at(2026, 3, day, 0, 30))

    removed_while_unpaid.refresh_from_db()
    assert removed_while_unpaid.status == InvoiceStatus.VOID
    assert account_balance_cents(workspace) == 0
    notes = Invoice.objects.filter(workspace=workspace, document_type=DocumentType.CREDIT_NOTE)
    assert [(n.total_cents, n.corrects_id) for n in notes] == [(-1_508, removed_while_unpaid.pk)]


def test_the_removal_dialog_says_the_credit_waits_for_the_payment(client, workspace, owner):
    paid, _invoice = _unpaid_seat(workspace, owner)
    client.force_login(owner.user)

    with time_machine.travel(at(2026, 3, 4, 9), tick=False):
        modal = client.get(
            f"/{workspace.pk}/workspace/members/{paid.pk}/remove/", headers={"HX-Request": "true"}
        )

    body = modal.content.decode()
    assert modal.status_code == 200
    assert "La facture de ce siège est impayée" in body
    assert "14,08" in body
