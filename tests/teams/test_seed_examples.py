"""Issue 6, acceptance 1: the three examples of seed 002, end to end, with time travel.

Members join through invitations (workspaces.services), the daily seat job
(billing.seat_sweeps.run_seat_sweeps) invoices and charges, removal goes through the members
service; amounts are checked to the cent against the proration rule and the invoice
totals rule.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from billing.seat_sweeps import run_seat_sweeps
from domain.periods import Interval
from invoices.models import Charge, DocumentType, Invoice, InvoiceStatus
from invoices.selectors import account_balance_cents
from teams import selectors, services
from teams import services as membership_services
from teams.models import ChargeStatus, Seat, SeatCharge, SeatStatus
from tests.factories import SubscriptionRowFactory, UserFactory, line_text
from tests.teams.conftest import at
from workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db

PRO_YEAR_SEAT = 8_999


def join(workspace, actor, email, role=Role.MEMBER) -> Membership:
    invitation = membership_services.invitation_create(
        workspace=workspace, actor=actor, email=email, role=role
    )
    return membership_services.invitation_accept(token=invitation.token, user=UserFactory(email=email))


def test_example_1_three_members_on_1_march_one_paid_seat_invoiced_2_march_for_10_months(
    workspace, owner, pro_annual, other_workspace
):
    # The row alone: the test proves that the other workspace has no invoice at all.
    SubscriptionRowFactory(workspace=other_workspace)
    with time_machine.travel(at(date(2026, 3, 1)), tick=False):
        for email in ("a@team.test", "b@team.test", "c@team.test"):
            join(workspace, owner, email)

    summary = selectors.seat_summary(workspace)
    assert (summary.licensed, summary.included, summary.paid, summary.capacity) == (4, 3, 1, 4)
    seat = Seat.objects.get(workspace=workspace)
    assert seat.user_email == "c@team.test"  # the first two are free
    assert (seat.interval, seat.coterm, seat.price_cents) == (Interval.YEAR, True, PRO_YEAR_SEAT)
    charge = SeatCharge.objects.get(seat=seat)
    # 89,99 € × 10/12 = 74,991… → 74,99 €
    assert (charge.amount_cents, charge.remaining_units, charge.total_units) == (7_499, 10, 12)

    # The day the members joined (22:00 UTC is 23:00 in Paris): nothing is invoiced yet.
    assert run_seat_sweeps(now=at(date(2026, 3, 1), 22))["seat_invoices"] == 0
    assert not Invoice.objects.exists()

    result = run_seat_sweeps(now=at(date(2026, 3, 2), 2))
    assert result["seat_invoices"] == 1
    assert result["seat_payments_succeeded"] == 1
    invoice = Invoice.objects.get(workspace=workspace)
    assert invoice.issued_at.date() == date(2026, 3, 2)
    assert invoice.source == f"seats:{workspace.pk}:2026-03-01"
    assert invoice.subtotal_cents == 7_499
    # VAT 74,99 € × 20 % = 14,998 € → 15,00 €; 74,99 € + 15,00 € = 89,99 €
    assert (invoice.vat_cents, invoice.total_cents) == (1_500, 8_999)
    assert invoice.status == InvoiceStatus.PAID
    (line,) = invoice.lines.all()
    assert line.kind == "seat_proration"
    assert line_text(line) == "Siège Pro — c@team.test | 1 × 89,99\u00a0€ × 10/12 mois = 74,99\u00a0€"
    assert Charge.objects.get(workspace=workspace).amount_cents == 8_999
    assert not Invoice.objects.filter(workspace=other_workspace).exists()


def test_example_2_monthly_seat_added_3_march_removed_18_march_credit_of_14_of_31_on_next_invoice(
    workspace, owner, add_members
):
    # The row alone: the seat's invoice is the workspace's only one.
    SubscriptionRowFactory(workspace=workspace, interval=Interval.MONTH, start=date(2026, 3, 1))
    add_members(2)  # owner + 2: the three included seats are taken
    with time_machine.travel(at(date(2026, 3, 3)), tick=False):
        member = join(workspace, owner, "march@team.test")
    run_seat_sweeps(now=at(date(2026, 3, 4), 2))
    first = Invoice.objects.get(workspace=workspace)
    # 12,99 € × 29/31 = 12,152… → 12,15 €
    assert first.subtotal_cents == 1_215

    with time_machine.travel(at(date(2026, 3, 18)), tick=False):
        preview = services.preview_member_removal(
            workspace=workspace, actor=owner, membership=member, now=at(date(2026, 3, 18))
        )
        membership_services.membership_remove(membership=member, actor=owner)

    # 12,99 € × 14/31 = 5,866… → 5,87 € HT; VAT 1,174 € → 1,17 €; 7,04 € credited
    assert preview.credit_cents == 704
    note = Invoice.objects.get(workspace=workspace, document_type=DocumentType.CREDIT_NOTE)
    assert (note.number, note.corrects_id) == ("AV-2026-000001", first.pk)
    assert (note.subtotal_cents, note.vat_cents, note.total_cents) == (-587, -117, -704)
    assert account_balance_cents(workspace) == 704
    assert Seat.objects.get(workspace=workspace).status == SeatStatus.REMOVED

    # The next invoice (another member's seat, invoiced the day after) uses the credit.
    with time_machine.travel(at(date(2026, 3, 20)), tick=False):
        join(workspace, owner, "later@team.test")
    run_seat_sweeps(now=at(date(2026, 3, 21), 2))
    following = (
        Invoice.objects.filter(workspace=workspace, document_type=DocumentType.INVOICE)
        .exclude(pk=first.pk)
        .get()
    )
    # 12,99 € × 12/31 (20 to 31 March) = 5,028… → 5,03 €; VAT 1,006 € → 1,01 €; total 6,04 €
    assert (following.subtotal_cents, following.vat_cents, following.total_cents) == (503, 101, 604)
    # All of it from the 7,04 € credited; 1,00 € stays on the balance.
    assert (following.account_credit_applied_cents, following.amount_due_cents) == (604, 0)
    assert account_balance_cents(workspace) == 100


def test_example_3_annual_seat_removed_in_june_credits_july_to_december(workspace, owner, pro_annual):
    with time_machine.travel(at(date(2026, 1, 10)), tick=False):
        for email in ("a@team.test", "b@team.test", "january@team.test"):
            join(workspace, owner, email)
    run_seat_sweeps(now=at(date(2026, 1, 11), 2))
    january = Membership.objects.get(workspace=workspace, user__email="january@team.test")
    seat = Seat.objects.get(membership=january)

    with time_machine.travel(at(date(2026, 6, 15)), tick=False):
        membership_services.membership_remove(membership=january, actor=owner)

    note = Invoice.objects.get(workspace=workspace, source=f"seat-removal:{seat.pk}")
    # 89,99 € × 6/12 = 44,995 € → 45,00 € HT (half a cent goes up); VAT 9,00 €; 54,00 €
    assert (note.document_type, note.subtotal_cents, note.vat_cents, note.total_cents) == (
        DocumentType.CREDIT_NOTE,
        -4_500,
        -900,
        -5_400,
    )
    assert account_balance_cents(workspace) == 5_400
    assert not Membership.objects.filter(pk=january.pk).exists()
    seat.refresh_from_db()
    assert (seat.status, seat.membership_id, seat.user_email) == (
        SeatStatus.REMOVED,
        None,
        "january@team.test",
    )
    assert SeatCharge.objects.get(seat=seat).status == ChargeStatus.INVOICED
