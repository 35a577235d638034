"""No seat outlives its subscription (docs/rules/lifecycle.md#end-of-a-subscription-ends-its-seats).

No seat is renewed past the subscription's end; a seat renewal falling due before the end
is charged only up to it; the unused part of a seat paid beyond the end is credited by
the removal rule (docs/rules/proration.md#removing-a-seat) when the subscription ends.

Driven through the public services and ``billing_tick``, the clock travelled; every amount
is written out in cents.
"""

from __future__ import annotations

import pytest

from billing import services as billing
from invoices.models import DocumentType, Invoice
from invoices.selectors import account_balance_cents
from subscriptions.models import CancelReason, Subscription
from teams import services as teams
from teams.models import ChargeKind, Seat, SeatCharge, SeatStatus
from tests.integration.helpers import add_member, at, invoices, lines_of, save_card, subscribe, tick
from tests.teams.conftest import paris

pytestmark = pytest.mark.django_db


def _pro_monthly_from_1_march(workspace, owner):
    """Pro monthly from 1 March 2026 (period 1 March - 1 April), the owner and two members
    on the included seats, a card on file."""
    start = at(2026, 3, 1, 9)
    for n in range(2):
        add_member(workspace, owner, f"included{n}@team.test", now=start)
    save_card(workspace, owner, now=start)
    subscribe(workspace, owner, "pro", "month", now=start)


def _paid_seat(workspace, owner, email, interval, *, now):
    """A member beyond the included seats, their paid seat on ``interval`` from ``now``
    (chosen the moment they join, before anything is invoiced)."""
    membership = add_member(workspace, owner, email, now=now)
    teams.seat_billing_period_set(
        workspace=workspace, actor=owner, membership=membership, interval=interval, now=now
    )
    return membership


def _cancel(workspace, owner, *, now):
    preview = billing.preview_cancel(workspace=workspace, reason=CancelReason.TOO_EXPENSIVE, now=now)
    billing.apply_cancel(
        workspace=workspace, actor=owner, reason=CancelReason.TOO_EXPENSIVE, preview=preview, now=now
    )


def _renewals(email):
    return list(
        SeatCharge.objects.filter(seat__user_email=email, kind=ChargeKind.RENEWAL)
        .order_by("day", "id")
        .values_list("day", "amount_cents", "remaining_units", "total_units", "period_start", "period_end")
    )


def _seat_credits(workspace):
    """The seat credit notes: (HT, VAT, TTC) of each, VAT included in what is credited."""
    return list(
        Invoice.objects.filter(
            workspace=workspace, document_type=DocumentType.CREDIT_NOTE, billing_reason="seat_change"
        )
        .order_by("id")
        .values_list("subtotal_cents", "vat_cents", "total_cents")
    )


def test_a_weekly_renewal_due_before_the_end_is_charged_only_up_to_the_end(workspace, owner):
    """Weekly Pro seat (4,99 €) from 1 March, renewing every Sunday; the subscription is
    cancelled on 20 March and ends on 1 April. The 29 March renewal covers 29, 30 and 31
    March only: 3 of 7 days × 4,99 € = 2,14 € (not a full week to 5 April)."""
    _pro_monthly_from_1_march(workspace, owner)
    _paid_seat(workspace, owner, "weekly@team.test", "week", now=at(2026, 3, 1, 10))
    for day in (2, 8, 15):
        tick(at(2026, 3, day, 0, 30))
    _cancel(workspace, owner, now=at(2026, 3, 20, 9))

    tick(at(2026, 3, 22, 0, 30))
    tick(at(2026, 3, 29, 0, 30))

    assert _renewals("weekly@team.test") == [
        (at(2026, 3, 8).date(), 499, 7, 7, paris(2026, 3, 8), paris(2026, 3, 15)),
        (at(2026, 3, 15).date(), 499, 7, 7, paris(2026, 3, 15), paris(2026, 3, 22)),
        (at(2026, 3, 22).date(), 499, 7, 7, paris(2026, 3, 22), paris(2026, 3, 29)),
        (at(2026, 3, 29).date(), 214, 3, 7, paris(2026, 3, 29), paris(2026, 4, 1)),
    ]
    assert lines_of(invoices(workspace)[-1]) == [("seats", 214)]
    assert invoices(workspace)[-1].total_cents == 257  # 2,14 € + 0,43 € VAT

    tick(at(2026, 4, 1, 0, 30))  # the subscription ends: back to Free

    assert Subscription.objects.get(workspace=workspace).plan.is_free
    seat = Seat.objects.get(user_email="weekly@team.test")
    assert seat.status == SeatStatus.REMOVED
    assert _seat_credits(workspace) == []  # nothing was paid beyond the end
    assert account_balance_cents(workspace) == 0
    assert "seat_invoices: 0" in tick(at(2026, 4, 5, 0, 30))
    assert len(_renewals("weekly@team.test")) == 4


def test_a_weekly_seat_renewed_in_full_before_the_cancellation_is_credited_at_the_end(workspace, owner):
    """Renewed on 29 March for a full week (to 5 April), the subscription not cancelled
    yet; cancelled on 30 March, it ends on 1 April: 1 to 4 April, 4 of 7 days × 4,99 € =
    2,85 € HT, + VAT 0,57 € = 3,42 €, go back to the account balance by a credit note."""
    _pro_monthly_from_1_march(workspace, owner)
    _paid_seat(workspace, owner, "weekly@team.test", "week", now=at(2026, 3, 1, 10))
    for day in (2, 8, 15, 22, 29):
        tick(at(2026, 3, day, 0, 30))
    assert lines_of(invoices(workspace)[-1]) == [("seats", 499)]
    _cancel(workspace, owner, now=at(2026, 3, 30, 9))

    tick(at(2026, 4, 1, 0, 30))

    assert Subscription.objects.get(workspace=workspace).plan.is_free
    assert Seat.objects.get(user_email="weekly@team.test").status == SeatStatus.REMOVED
    assert _seat_credits(workspace) == [(-285, -57, -342)]
    assert account_balance_cents(workspace) == 342
    assert "seat_invoices: 0" in tick(at(2026, 4, 5, 0, 30))


def test_an_annual_seat_on_a_cancelled_monthly_plan_is_credited_when_the_plan_ends(workspace, owner):
    """Annual Pro seat (89,99 €) from 1 March on a monthly subscription cancelled on
    10 March, ending 1 April. The removal rule on 1 April: March used, April the current
    month, May to February credited, 10 of 12 months × 89,99 € = 74,99 € HT, + VAT 15,00 €
    = 89,99 €."""
    _pro_monthly_from_1_march(workspace, owner)
    _paid_seat(workspace, owner, "annual@team.test", "year", now=at(2026, 3, 1, 10))
    tick(at(2026, 3, 2, 0, 30))
    assert lines_of(invoices(workspace)[-1]) == [("seat_proration", 8_999)]
    _cancel(workspace, owner, now=at(2026, 3, 10, 9))

    tick(at(2026, 4, 1, 0, 30))

    assert Subscription.objects.get(workspace=workspace).plan.is_free
    assert Seat.objects.get(user_email="annual@team.test").status == SeatStatus.REMOVED
    assert _seat_credits(workspace) == [(-7_499, -1_500, -8_999)]
    assert account_balance_cents(workspace) == 8_999
    # Ended once: a later run credits nothing more.
    tick(at(2026, 4, 2, 0, 30))
    assert account_balance_cents(workspace) == 8_999


def test_a_subscription_reactivated_after_a_short_renewal_charges_the_rest_of_the_week(workspace, owner):
    """Cancelled on 20 March, the 29 March renewal is charged to 1 April only (2,14 €);
    reactivated on 30 March, the subscription renews on 1 April and so does the seat for
    the rest of its week, 1 to 4 April: 4 of 7 days × 4,99 € = 2,85 €. Then full weeks."""
    _pro_monthly_from_1_march(workspace, owner)
    _paid_seat(workspace, owner, "weekly@team.test", "week", now=at(2026, 3, 1, 10))
    for day in (2, 8, 15):
        tick(at(2026, 3, day, 0, 30))
    _cancel(workspace, owner, now=at(2026, 3, 20, 9))
    tick(at(2026, 3, 22, 0, 30))
    tick(at(2026, 3, 29, 0, 30))
    preview = billing.preview_reactivate(workspace=workspace, now=at(2026, 3, 30, 9))
    billing.apply_reactivate(workspace=workspace, actor=owner, preview=preview, now=at(2026, 3, 30, 9))

    tick(at(2026, 4, 1, 0, 30))
    tick(at(2026, 4, 5, 0, 30))

    assert _renewals("weekly@team.test")[-3:] == [
        (at(2026, 3, 29).date(), 214, 3, 7, paris(2026, 3, 29), paris(2026, 4, 1)),
        (at(2026, 4, 1).date(), 285, 4, 7, paris(2026, 4, 1), paris(2026, 4, 5)),
        (at(2026, 4, 5).date(), 499, 7, 7, paris(2026, 4, 5), paris(2026, 4, 12)),
    ]
    seat = Seat.objects.get(user_email="weekly@team.test")
    assert (seat.status, seat.period_start, seat.period_end) == (
        SeatStatus.ACTIVE,
        paris(2026, 4, 5),
        paris(2026, 4, 12),
    )
    assert account_balance_cents(workspace) == 0
