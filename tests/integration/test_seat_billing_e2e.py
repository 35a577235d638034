"""Billing and teams agree on who pays for which seat, end to end (docs/rules/proration.md,
"Plans", "Proration rule"): the real services, ``manage.py billing_tick`` run by the
clock (time-machine), every invoice and every card charge checked to the cent.

The rule: the included seats are in the base price; ``extra_seats`` are capacity bought
in advance and billed with the subscription; members beyond them hold paid seats; a paid
seat on the subscription's interval is co-termed and billed by the subscription's
invoices, a paid seat on another interval only by its own anniversary renewal.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from invoices.models import InvoiceStatus
from teams import selectors as team_selectors
from teams import services as teams
from teams.models import Seat, SeatCharge, SeatStatus
from tests.factories import line_text, subscribe
from tests.integration.helpers import (
    add_member,
    at,
    charged_cents,
    invite_and_join,
    invoices,
    lines_of,
    save_card,
    tick,
)
from tests.teams.conftest import paris
from workspaces.models import Role

pytestmark = pytest.mark.django_db

PRO_YEAR, PRO_MONTH = 8_999, 1_299


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def test_studio_pro_annual_bills_each_seat_once_over_thirteen_months(workspace, owner, other_workspace):
    """(a) Pro annual from 1 January: the owner and 2 members on the included seats, then 2
    paid seats, one annual (co-termed) and one monthly. The annual renewal bills the base
    and the co-termed seat only; the monthly seat renews every month through teams."""
    bought = at(2026, 1, 1, 9)
    add_member(workspace, owner, "admin@studio.test", role=Role.ADMIN, now=bought)
    add_member(workspace, owner, "member@studio.test", now=bought)
    save_card(workspace, owner, now=bought)
    subscribe(workspace, owner, "pro", "year", now=bought)

    joined = at(2026, 1, 1, 10)
    add_member(workspace, owner, "annual@studio.test", now=joined)
    monthly = add_member(workspace, owner, "monthly@studio.test", now=joined)
    teams.seat_billing_period_set(
        workspace=workspace, actor=owner, membership=monthly, interval="month", now=joined
    )
    seats = {seat.user_email: seat for seat in Seat.objects.filter(workspace=workspace)}
    assert (seats["annual@studio.test"].interval, seats["annual@studio.test"].coterm) == ("year", True)
    assert (seats["monthly@studio.test"].interval, seats["monthly@studio.test"].coterm) == ("month", False)

    # Every night for 13 months (2 January 2026 → 31 January 2027), as beat runs it.
    outputs = [
        tick(at(day.year, day.month, day.day, 0, 30)) for day in _days(date(2026, 1, 2), date(2027, 1, 31))
    ]

    assert "seat_invoices" in outputs[0]
    assert "renewed" in outputs[0]
    issued = invoices(workspace)
    expected = (
        # 1 Jan 2026: Pro for the year, the 3 included seats in the base price.
        [("subscription_create", [("plan", PRO_YEAR)])]
        # 2 Jan: the day after the members joined, their seats, prorated from 1 January.
        + [("seat_change", [("seat_proration", PRO_YEAR), ("seat_proration", PRO_MONTH)])]
        # 1 Feb 2026 … 1 Jan 2027: the monthly seat renews on its own, 12 times.
        + [("subscription_cycle", [("seats", PRO_MONTH)])] * 11
        # 1 Jan 2027: the subscription renews with its one co-termed seat, not the monthly one…
        + [("subscription_cycle", [("plan", PRO_YEAR), ("seats", PRO_YEAR)])]
        # … and the monthly seat its own 12th renewal.
        + [("subscription_cycle", [("seats", PRO_MONTH)])]
    )
    got = [(invoice.billing_reason, lines_of(invoice)) for invoice in issued]
    # Same day (1 Jan 2027): the two renewals are apart; compare them as a set.
    assert got[:13] == expected[:13]
    assert sorted(got[13:]) == sorted(expected[13:])
    renewal = next(i for i in issued if i.source.startswith("renewal:") and i.issued_at.year == 2027)
    seat_line = renewal.lines.get(kind="seats")
    assert seat_line.quantity == 1
    assert line_text(seat_line) == "Pro, sièges supplémentaires | 1 × 89,99\u00a0€ = 89,99\u00a0€"

    # Totals at 20 % VAT, each rounded half up to the cent:
    # the year 89,99 € + 18,00 € (17,998) = 107,99 €; the two seats 102,98 € + 20,60 € (20,596)
    # = 123,58 €; each monthly renewal 12,99 € + 2,60 € (2,598) = 15,59 €; the 2027 renewal
    # 179,98 € + 36,00 € (35,996) = 215,98 €.
    totals = [invoice.total_cents for invoice in issued]
    assert totals[:13] == [10_799, 12_358] + [1_559] * 11
    assert sorted(totals[13:]) == [1_559, 21_598]
    # 107,99 + 123,58 + 12 × 15,59 + 215,98 = 634,63 €
    assert sum(totals) == 63_463
    assert all(invoice.status == InvoiceStatus.PAID for invoice in issued)
    assert charged_cents(workspace) == 63_463
    numbers = [invoice.number for invoice in issued]
    assert len(set(numbers)) == len(numbers)

    seats = {seat.user_email: seat for seat in Seat.objects.filter(workspace=workspace)}
    assert (seats["annual@studio.test"].period_start, seats["annual@studio.test"].period_end) == (
        paris(2027, 1, 1),
        paris(2028, 1, 1),
    )
    assert (seats["monthly@studio.test"].period_start, seats["monthly@studio.test"].period_end) == (
        paris(2027, 1, 1),
        paris(2027, 2, 1),
    )
    assert team_selectors.coterm_paid_seat_count(workspace) == 1
    assert invoices(other_workspace) == []


def test_free_to_pro_with_five_members_bills_two_seats_on_one_invoice_and_nothing_the_next_day(
    workspace, owner, other_workspace
):
    """(b) Five licensed members on Free, then Pro monthly: the 2 members beyond the
    included 3 hold co-termed paid seats billed on the subscription's invoice, once."""
    on_free = at(2026, 3, 1, 9)
    for n in range(4):
        add_member(workspace, owner, f"m{n}@team.test", now=on_free)
    add_member(workspace, owner, "guest@team.test", role=Role.GUEST, now=on_free)  # holds no seat
    assert not Seat.objects.filter(workspace=workspace).exists()  # seats are free on Free
    bought = at(2026, 3, 10, 9)
    save_card(workspace, owner, now=bought)

    result = subscribe(workspace, owner, "pro", "month", now=bought)
    preview = result.preview

    assert [(line.kind, line_text(line), line.amount_cents) for line in preview.lines] == [
        ("plan", "Forfait Pro | 1 × 12,99\u00a0€ = 12,99\u00a0€", PRO_MONTH),
        ("seats", "Pro, sièges supplémentaires | 2 × 12,99\u00a0€ = 25,98\u00a0€", 2 * PRO_MONTH),
    ]
    assert lines_of(result.invoice) == [("plan", PRO_MONTH), ("seats", 2 * PRO_MONTH)]
    # 3 × 12,99 € = 38,97 €; VAT 7,794 € → 7,79 €; 46,76 €
    assert result.invoice.total_cents == preview.totals.total_cents == 4_676
    seats = Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE)
    assert seats.count() == 2
    assert all(seat.coterm and seat.interval == "month" for seat in seats)
    assert (seats[0].period_start, seats[0].period_end) == (paris(2026, 3, 10), paris(2026, 4, 10))
    assert not seats.filter(membership__role=Role.OWNER).exists()
    assert not SeatCharge.objects.filter(workspace=workspace).exists()

    assert "seat_invoices: 0" in tick(at(2026, 3, 11, 0, 30))
    assert "seat_invoices: 0" in tick(at(2026, 3, 12, 0, 30))
    assert len(invoices(workspace)) == 1

    tick(at(2026, 4, 10, 0, 30))
    issued = invoices(workspace)
    assert [(i.billing_reason, lines_of(i)) for i in issued] == [
        ("subscription_create", [("plan", PRO_MONTH), ("seats", 2 * PRO_MONTH)]),
        ("subscription_cycle", [("plan", PRO_MONTH), ("seats", 2 * PRO_MONTH)]),
    ]
    assert charged_cents(workspace) == 9_352  # 2 × 46,76 €
    assert not SeatCharge.objects.filter(workspace=workspace).exists()
    assert not Seat.objects.filter(workspace=other_workspace).exists()


def test_extra_seats_bought_in_advance_are_filled_before_any_paid_seat(workspace, owner, other_workspace):
    """(c) +2 extra seats, then 2 invited members take them: no paid seat, no seat
    charge; a 3rd member takes a paid seat, charged the next day; the renewal bills the
    2 extra seats and that co-termed seat."""
    start = at(2026, 3, 1, 9)
    add_member(workspace, owner, "a@team.test", now=start)
    add_member(workspace, owner, "b@team.test", now=start)
    save_card(workspace, owner, now=start)
    subscribe(workspace, owner, "pro", "month", now=start)
    from billing import services as billing

    customized_at = at(2026, 3, 10, 9)
    preview = billing.preview_customize(workspace=workspace, extra_seats=2, now=customized_at)
    result = billing.apply_customize(
        workspace=workspace, actor=owner, extra_seats=2, preview=preview, now=customized_at
    )
    # 22 of 31 days remain: 2 × 12,99 € × 22 / 31 = 18,4374 € → 18,44 €.
    assert lines_of(result.invoice) == [("seat_proration", 1_844)]
    assert line_text(result.invoice.lines.get()) == (
        "Pro, sièges supplémentaires | 2 × 12,99\u00a0€ × 22/31 jours = 18,44\u00a0€"
    )

    invite_and_join(workspace, owner, "c@team.test", now=at(2026, 3, 10, 11))
    invite_and_join(workspace, owner, "d@team.test", now=at(2026, 3, 10, 12))
    assert not Seat.objects.filter(workspace=workspace).exists()
    assert not SeatCharge.objects.filter(workspace=workspace).exists()
    assert "seat_invoices: 0" in tick(at(2026, 3, 11, 0, 30))
    summary = team_selectors.seat_summary(workspace)
    assert (summary.licensed, summary.capacity, summary.paid) == (5, 5, 0)

    third = invite_and_join(workspace, owner, "e@team.test", now=at(2026, 3, 12, 10))
    seat = Seat.objects.get(workspace=workspace, status=SeatStatus.ACTIVE)
    assert seat.membership == third
    assert seat.coterm
    assert "seat_invoices: 0" in tick(at(2026, 3, 12, 22, 30))  # not the same day (23:30 in Paris)
    assert "seat_invoices: 1" in tick(at(2026, 3, 13, 0, 30))
    seat_invoice = invoices(workspace)[-1]
    # 20 of 31 days × 12,99 € = 8,3806 € → 8,38 €.
    assert (seat_invoice.billing_reason, lines_of(seat_invoice)) == ("seat_change", [("seat_proration", 838)])

    tick(at(2026, 4, 1, 0, 30))
    renewal = invoices(workspace)[-1]
    assert (renewal.billing_reason, lines_of(renewal)) == (
        "subscription_cycle",
        [("plan", PRO_MONTH), ("seats", 3 * PRO_MONTH)],  # 2 extra + 1 co-termed paid seat
    )
    assert [i.total_cents for i in invoices(workspace)] == [
        1_559,  # 12,99 € + VAT 2,598 € → 2,60 €
        2_213,  # 18,44 € + VAT 3,688 € → 3,69 €
        1_006,  # 8,38 € + VAT 1,676 € → 1,68 €
        6_235,  # 4 × 12,99 € = 51,96 € + VAT 10,392 € → 10,39 €
    ]
    assert charged_cents(workspace) == sum(i.total_cents for i in invoices(workspace))
    assert invoices(other_workspace) == []
