"""A seat charge becomes invoice lines written from its numbers
(docs/rules/invoices.md#line-words): 1 × the seat's price × the fraction charged, and,
when a removal netted part of it before the daily seat job invoiced it, the unused time
given back as its own line, so that every line still reads quantity × unit price ×
fraction = amount."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from billing.seat_sweeps import run_seat_sweeps
from invoices.models import Invoice
from teams import services as membership_services
from teams.models import SeatCharge
from tests.factories import UserFactory, line_text
from tests.teams.conftest import at
from workspaces.models import Membership

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def join(workspace, actor, email) -> Membership:
    invitation = membership_services.invitation_create(
        workspace=workspace, actor=actor, email=email, role="member"
    )
    return membership_services.invitation_accept(token=invitation.token, user=UserFactory(email=email))


def test_an_annual_seat_added_and_removed_the_same_day_is_billed_its_month(
    workspace, owner, pro_annual, add_members
):
    add_members(2)  # the owner and 2 members fill the 3 included seats
    with time_machine.travel(at(date(2026, 3, 1)), tick=False):
        member = join(workspace, owner, "c@team.test")
        membership_services.membership_remove(membership=member, actor=owner)

    # Added in March: 10 of 12 months charged, 89,99 € × 10/12 = 74,991… → 74,99 €.
    # Removed in March: the 9 months after it given back, 89,99 € × 9/12 = 67,4925 → 67,49 €,
    # taken off the charge before it was invoiced: 74,99 € − 67,49 € = 7,50 € left to pay.
    charge = SeatCharge.objects.get(workspace=workspace)
    assert (charge.original_amount_cents, charge.amount_cents) == (7_499, 750)

    run_seat_sweeps(now=at(date(2026, 3, 2), 2))

    invoice = Invoice.objects.get(workspace=workspace)
    assert [(line.kind, line_text(line)) for line in invoice.lines.order_by("position")] == [
        ("seat_proration", f"Siège Pro — c@team.test | 1 × 89,99{NBSP}€ × 10/12 mois = 74,99{NBSP}€"),
        ("credit", f"Temps non utilisé sur un siège Pro — c@team.test | -1 × 67,49{NBSP}€ = -67,49{NBSP}€"),
    ]
    # 7,50 € + VAT 1,50 € = 9,00 €
    assert (invoice.subtotal_cents, invoice.vat_cents, invoice.total_cents) == (750, 150, 900)
    assert line_text(invoice.lines.order_by("position")[0], "en") == (
        "Pro seat — c@team.test | 1 × €89.99 × 10/12 months = €74.99"
    )


def test_a_charge_recorded_before_charges_kept_their_numbers_is_invoiced_with_its_stored_words(
    workspace, owner, pro_annual, add_members
):
    add_members(2)
    with time_machine.travel(at(date(2026, 3, 1)), tick=False):
        join(workspace, owner, "c@team.test")
    # What the previous release recorded: words, no price.
    SeatCharge.objects.filter(workspace=workspace).update(
        price_cents=None, plan_name="", description=f"Siège Pro — c@team.test, 10 of 12 months × 89,99{NBSP}€"
    )

    run_seat_sweeps(now=at(date(2026, 3, 2), 2))

    (line,) = Invoice.objects.get(workspace=workspace).lines.all()
    assert (line.subject, line.amount_cents) == (None, 7_499)
    assert (
        line_text(line, "en")
        == f"Siège Pro — c@team.test, 10 of 12 months × 89,99{NBSP}€ | 1 × €74.99 = €74.99"
    )
