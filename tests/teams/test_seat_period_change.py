"""A change of a seat's billing period takes effect at the end of the seat's current paid
unit (docs/rules/proration.md#changing-a-seats-period): its week, its month, or for an
annual seat its current month. Nothing is paid twice; changing back before then costs
nothing. The daily seat sweep applies it when the unit ends.

Driven through the public services and ``billing_tick``, the clock travelled; every amount
is written out in cents.
"""

from __future__ import annotations

import pytest

from billing import services as billing
from invoices.models import AccountBalanceEntry
from invoices.selectors import account_balance_cents
from subscriptions.models import CancelReason
from teams import selectors as team_selectors
from teams import services as teams
from teams.errors import SeatPeriodDuringTrial
from teams.models import ChargeKind, ChargeStatus, Seat, SeatCharge
from tests.factories import price_id
from tests.integration.helpers import add_member, at, invoices, lines_of, save_card, subscribe, tick
from tests.teams.conftest import paris

pytestmark = pytest.mark.django_db


def _team(workspace, owner, interval, *, start):
    """Pro on ``interval`` from ``start``: the owner and two members on the included seats."""
    for n in range(2):
        add_member(workspace, owner, f"included{n}@team.test", now=start)
    save_card(workspace, owner, now=start)
    subscribe(workspace, owner, "pro", interval, now=start)


def _set(workspace, owner, membership, interval, *, now):
    return teams.seat_billing_period_set(
        workspace=workspace, actor=owner, membership=membership, interval=interval, now=now
    )


def _seat_invoices(workspace):
    """Every invoice of the seat job (changes the day after, renewals the day they fall due)."""
    return [
        (invoice.issued_at.date(), lines_of(invoice))
        for invoice in invoices(workspace)
        if invoice.source.startswith(("seats:", "seat-renewals:"))
    ]


def _seat_credits(workspace):
    return list(
        AccountBalanceEntry.objects.filter(workspace=workspace, amount_cents__gt=0)
        .order_by("id")
        .values_list("amount_cents", flat=True)
    )


def test_annual_to_monthly_and_back_on_one_day_costs_nothing_more(workspace, owner):
    """docs/rules/proration.md#example-1-annual-seat-added: the paid seat taken on 1 March
    is charged 10 of 12 months × 89,99 € = 74,99 € on 2 March. Moved to monthly on
    10 March and back to annual the same day, it still costs 74,99 €: March is not
    paid twice (today: 74,99 € − 67,49 € + 74,99 € = 82,49 €)."""
    _team(workspace, owner, "year", start=at(2026, 1, 1, 9))
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 1, 10))
    tick(at(2026, 3, 2, 0, 30))
    assert _seat_invoices(workspace) == [(at(2026, 3, 2).date(), [("seat_proration", 7_499)])]

    _set(workspace, owner, paid, "month", now=at(2026, 3, 10, 9))
    _set(workspace, owner, paid, "year", now=at(2026, 3, 10, 10))

    assert account_balance_cents(workspace) == 0
    assert not SeatCharge.objects.filter(workspace=workspace, status=ChargeStatus.PENDING).exists()
    for day in (11, 31):
        tick(at(2026, 3, day, 0, 30))
    for day in (1, 2):
        tick(at(2026, 4, day, 0, 30))
    assert _seat_invoices(workspace) == [(at(2026, 3, 2).date(), [("seat_proration", 7_499)])]
    assert _seat_credits(workspace) == []
    seat = Seat.objects.get(user_email="paid@team.test")
    assert (seat.interval, seat.coterm, seat.period_start, seat.period_end) == (
        "year",
        True,
        paris(2026, 1, 1),
        paris(2027, 1, 1),
    )
    assert team_selectors.coterm_paid_seat_count(workspace) == 1  # the January renewal bills it


def test_a_monthly_seat_moved_to_annual_becomes_annual_when_its_month_ends(workspace, owner):
    """docs/rules/proration.md#changing-a-seats-period, first example: a monthly seat
    (1st to 1st) switched to annual on 10 March; nothing changes until 1 April, then it is
    an annual seat co-termed with the subscription, 9 of 12 months × 89,99 € = 67,49 €."""
    _team(workspace, owner, "year", start=at(2026, 1, 1, 9))
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 1, 10))
    _set(workspace, owner, paid, "month", now=at(2026, 3, 1, 10))  # before anything is invoiced
    tick(at(2026, 3, 2, 0, 30))
    assert _seat_invoices(workspace) == [(at(2026, 3, 2).date(), [("seat_proration", 1_299)])]

    _set(workspace, owner, paid, "year", now=at(2026, 3, 10, 9))

    assert account_balance_cents(workspace) == 0
    assert not SeatCharge.objects.filter(workspace=workspace, status=ChargeStatus.PENDING).exists()
    seat = Seat.objects.get(user_email="paid@team.test")
    assert (seat.interval, seat.period_start, seat.period_end) == (
        "month",
        paris(2026, 3, 1),
        paris(2026, 4, 1),
    )

    tick(at(2026, 3, 11, 0, 30))
    tick(at(2026, 4, 1, 0, 30))
    tick(at(2026, 4, 2, 0, 30))

    assert _seat_invoices(workspace) == [
        (at(2026, 3, 2).date(), [("seat_proration", 1_299)]),
        (at(2026, 4, 2).date(), [("seat_proration", 6_749)]),  # no monthly renewal on 1 April
    ]
    change = SeatCharge.objects.get(kind=ChargeKind.PERIOD_CHANGE)
    assert (change.remaining_units, change.total_units, change.period_start, change.period_end) == (
        9,
        12,
        paris(2026, 4, 1),
        paris(2027, 1, 1),
    )
    seat.refresh_from_db()
    assert (seat.interval, seat.coterm, seat.period_start, seat.period_end) == (
        "year",
        True,
        paris(2026, 1, 1),
        paris(2027, 1, 1),
    )
    assert _seat_credits(workspace) == []
    assert "seat_invoices: 0" in tick(at(2026, 5, 1, 0, 30))


def test_an_annual_seat_moved_to_monthly_is_credited_and_billed_monthly_from_the_next_month(workspace, owner):
    """docs/rules/proration.md#changing-a-seats-period, second example: an annual
    co-termed seat switched to monthly on 10 June; on 1 July, July to December are
    credited (6 of 12 months × 89,99 € = 45,00 €) and the seat is billed 12,99 € a month
    from 1 July."""
    _team(workspace, owner, "year", start=at(2026, 1, 1, 9))
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 1, 10))
    tick(at(2026, 3, 2, 0, 30))

    _set(workspace, owner, paid, "month", now=at(2026, 6, 10, 9))

    assert account_balance_cents(workspace) == 0
    assert not SeatCharge.objects.filter(workspace=workspace, status=ChargeStatus.PENDING).exists()
    tick(at(2026, 6, 11, 0, 30))
    assert _seat_invoices(workspace) == [(at(2026, 3, 2).date(), [("seat_proration", 7_499)])]
    assert team_selectors.coterm_paid_seat_count(workspace) == 0  # leaving the annual renewal

    tick(at(2026, 7, 1, 0, 30))

    # 6 of 12 months × 89,99 € = 45,00 € HT, + VAT 9,00 € = 54,00 €, by a credit note.
    assert _seat_credits(workspace) == [5_400]
    seat = Seat.objects.get(user_email="paid@team.test")
    assert (seat.interval, seat.coterm, seat.period_start, seat.period_end) == (
        "month",
        False,
        paris(2026, 7, 1),
        paris(2026, 8, 1),
    )
    tick(at(2026, 7, 2, 0, 30))
    tick(at(2026, 8, 1, 0, 30))
    assert _seat_invoices(workspace)[1:] == [
        (at(2026, 7, 2).date(), [("seat_proration", 1_299)]),
        (at(2026, 8, 1).date(), [("seats", 1_299)]),
    ]


def test_a_cotermed_monthly_seat_moved_to_weekly_leaves_the_renewal_when_its_month_ends(workspace, owner):
    """Pro monthly from 1 March: the paid seat, co-termed, is charged 12,99 € for March.
    Moved to weekly on 10 March, it keeps its month (nothing credited, nothing charged);
    the 1 April renewal bills the plan alone and the seat is weekly from 1 April (4,99 €)."""
    _team(workspace, owner, "month", start=at(2026, 3, 1, 9))
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 1, 10))
    tick(at(2026, 3, 2, 0, 30))
    assert _seat_invoices(workspace) == [(at(2026, 3, 2).date(), [("seat_proration", 1_299)])]

    _set(workspace, owner, paid, "week", now=at(2026, 3, 10, 9))

    assert account_balance_cents(workspace) == 0
    tick(at(2026, 3, 11, 0, 30))
    tick(at(2026, 4, 1, 0, 30))
    tick(at(2026, 4, 2, 0, 30))

    renewal = [i for i in invoices(workspace) if i.source.startswith("renewal:")]
    assert [lines_of(i) for i in renewal] == [[("plan", 1_299)]]
    assert _seat_invoices(workspace) == [
        (at(2026, 3, 2).date(), [("seat_proration", 1_299)]),
        (at(2026, 4, 2).date(), [("seat_proration", 499)]),
    ]
    seat = Seat.objects.get(user_email="paid@team.test")
    assert (seat.interval, seat.coterm, seat.period_start, seat.period_end) == (
        "week",
        False,
        paris(2026, 4, 1),
        paris(2026, 4, 8),
    )
    assert _seat_credits(workspace) == []
    tick(at(2026, 4, 8, 0, 30))
    assert _seat_invoices(workspace)[-1] == (at(2026, 4, 8).date(), [("seats", 499)])


def test_a_weekly_seat_moved_to_monthly_and_back_before_its_week_ends_costs_nothing(workspace, owner):
    """A weekly seat (4,99 € from 1 March) moved to monthly on 3 March and back to weekly
    on 5 March: nothing is credited or charged, it renews weekly on 8 March."""
    _team(workspace, owner, "month", start=at(2026, 3, 1, 9))
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 1, 10))
    _set(workspace, owner, paid, "week", now=at(2026, 3, 1, 10))
    tick(at(2026, 3, 2, 0, 30))

    _set(workspace, owner, paid, "month", now=at(2026, 3, 3, 9))
    _set(workspace, owner, paid, "week", now=at(2026, 3, 5, 9))
    for day in (4, 6, 8, 9):
        tick(at(2026, 3, day, 0, 30))

    assert _seat_invoices(workspace) == [
        (at(2026, 3, 2).date(), [("seat_proration", 499)]),
        (at(2026, 3, 8).date(), [("seats", 499)]),
    ]
    assert account_balance_cents(workspace) == 0
    seat = Seat.objects.get(user_email="paid@team.test")
    assert (seat.interval, seat.period_start, seat.period_end) == (
        "week",
        paris(2026, 3, 8),
        paris(2026, 3, 15),
    )


def _cancel(workspace, owner, *, now):
    preview = billing.preview_cancel(workspace=workspace, reason=CancelReason.OTHER, comment="test", now=now)
    billing.apply_cancel(
        workspace=workspace,
        actor=owner,
        reason=CancelReason.OTHER,
        comment="test",
        preview=preview,
        now=now,
    )


def test_a_change_waiting_for_the_end_of_a_cancelled_subscription_ends_with_it(workspace, owner):
    """The co-termed seat's month ends with the cancelled subscription, on 1 April: the
    weekly billing chosen on 10 March never starts, nothing is charged or credited."""
    _team(workspace, owner, "month", start=at(2026, 3, 1, 9))
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 1, 10))
    tick(at(2026, 3, 2, 0, 30))
    _cancel(workspace, owner, now=at(2026, 3, 5, 9))

    _set(workspace, owner, paid, "week", now=at(2026, 3, 10, 9))
    tick(at(2026, 4, 1, 0, 30))
    tick(at(2026, 4, 2, 0, 30))

    seat = Seat.objects.get(user_email="paid@team.test")
    assert (seat.status, seat.interval, seat.pending_interval) == ("removed", "month", "")
    assert _seat_invoices(workspace) == [(at(2026, 3, 2).date(), [("seat_proration", 1_299)])]
    assert not SeatCharge.objects.filter(kind=ChargeKind.PERIOD_CHANGE).exists()
    assert account_balance_cents(workspace) == 0


def test_a_new_period_starting_before_a_cancelled_subscription_ends_is_charged_up_to_the_end(
    workspace, owner
):
    """A weekly seat (1 March) on a subscription cancelled on 10 March, ending 1 April,
    moved to monthly the same day: monthly from 15 March, when its week ends, but only up
    to 1 April: 17 of 31 days × 12,99 € = 7,12 €. Nothing is credited at the end."""
    _team(workspace, owner, "month", start=at(2026, 3, 1, 9))
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 1, 10))
    _set(workspace, owner, paid, "week", now=at(2026, 3, 1, 10))
    for day in (2, 8):
        tick(at(2026, 3, day, 0, 30))
    _cancel(workspace, owner, now=at(2026, 3, 10, 9))

    _set(workspace, owner, paid, "month", now=at(2026, 3, 10, 10))
    for day in (15, 16):
        tick(at(2026, 3, day, 0, 30))

    assert _seat_invoices(workspace)[-1] == (at(2026, 3, 16).date(), [("seat_proration", 712)])
    change = SeatCharge.objects.get(kind=ChargeKind.PERIOD_CHANGE)
    assert (change.remaining_units, change.total_units, change.period_start, change.period_end) == (
        17,
        31,
        paris(2026, 3, 15),
        paris(2026, 4, 1),
    )
    tick(at(2026, 4, 1, 0, 30))
    assert Seat.objects.get(user_email="paid@team.test").status == "removed"
    assert account_balance_cents(workspace) == 0
    assert "seat_invoices: 0" in tick(at(2026, 4, 15, 0, 30))


# --- a seat whose charge is pending, but which was billed in another way ---------------------
# Only a seat taken today, with nothing but its adding charge and no change of the
# subscription since, is planned again from today; any other waits for the end of its
# current paid unit, so nothing it paid or was credited is lost or paid twice.


def teams_roles(membership, owner, role, now):
    return teams.membership_change_role(membership=membership, actor=owner, role=role, now=now)


def _pending(workspace):
    return sorted(
        SeatCharge.objects.filter(workspace=workspace, status=ChargeStatus.PENDING).values_list(
            "kind", "amount_cents"
        )
    )


def test_a_seat_priced_by_a_plan_change_the_day_it_was_taken_keeps_its_charge(workspace, owner):
    """Pro annual; a member takes a paid seat on 10 March (10 of 12 months × 89,99 € =
    74,99 € pending), the plan changes to Max the same day (the change credits the seat's
    Pro months and charges its Max months, as billed), then the seat goes monthly. The
    adding charge stays due: the plan change counted it as paid."""
    _team(workspace, owner, "year", start=at(2026, 1, 1, 9))
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 10, 9))
    assert _pending(workspace) == [("added", 7_499)]
    now = at(2026, 3, 10, 10)
    max_annual = price_id("max", "year")
    preview = billing.preview_change_plan(workspace=workspace, price_id=max_annual, now=now)
    billing.apply_change_plan(workspace=workspace, actor=owner, price_id=max_annual, preview=preview, now=now)

    seat = _set(workspace, owner, paid, "month", now=at(2026, 3, 10, 11))

    assert _pending(workspace) == [("added", 7_499)]
    assert (seat.interval, seat.pending_interval, seat.pending_at) == ("year", "month", paris(2026, 4, 1))


def test_a_seat_taken_back_the_same_day_waits_for_its_unit_to_end(workspace, owner):
    """Pro monthly from 1 March; the member's co-termed seat is billed by the renewal on
    1 April. On 10 April they are made a guest (21 of 30 days × 12,99 € = 9,09 € credited)
    and a member again (9,09 € due again), then their seat goes weekly: the month stays
    paid once, the weekly period starts on 1 May."""
    _team(workspace, owner, "month", start=at(2026, 3, 1, 9))
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 31, 20))
    tick(at(2026, 4, 1, 0, 30))
    teams_roles(paid, owner, "guest", at(2026, 4, 10, 9))
    teams_roles(paid, owner, "member", at(2026, 4, 10, 10))
    assert _pending(workspace) == [("readded", 909)]

    seat = _set(workspace, owner, paid, "week", now=at(2026, 4, 10, 11))

    assert _pending(workspace) == [("readded", 909)]
    assert (seat.interval, seat.pending_interval, seat.pending_at) == ("month", "week", paris(2026, 5, 1))


def test_a_seat_taken_back_after_the_subscription_changed_is_a_new_seat_on_its_terms(workspace, owner):
    """Pro monthly; the member's co-termed seat is released on 10 March (credited), the
    subscription switches to annual, then the member is added again the same day: they take
    an annual seat co-termed with the subscription at the annual price, not their old
    monthly seat."""
    _team(workspace, owner, "month", start=at(2026, 3, 1, 9))
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 1, 10))
    tick(at(2026, 3, 2, 0, 30))
    teams_roles(paid, owner, "guest", at(2026, 3, 10, 9))
    now = at(2026, 3, 10, 10)
    preview = billing.preview_switch_to_annual(workspace=workspace, now=now)
    billing.apply_switch_to_annual(workspace=workspace, actor=owner, preview=preview, now=now)

    teams_roles(paid, owner, "member", at(2026, 3, 10, 11))

    (seat,) = Seat.objects.filter(workspace=workspace, user_email="paid@team.test", status="active")
    assert (seat.interval, seat.coterm, seat.price_cents) == ("year", True, 8_999)


# --- during a trial -----------------------------------------------------------------------------


@pytest.mark.parametrize("cancelled", [False, True])
def test_a_seat_period_cannot_be_changed_during_a_trial(workspace, owner, cancelled):
    """A trial holds its seats free on the subscription's interval until it ends, cancelled
    or not: a change of a seat's period is refused with the reason, and nothing moves."""
    for n in range(2):
        add_member(workspace, owner, f"included{n}@team.test", now=at(2026, 3, 1, 8))
    save_card(workspace, owner, now=at(2026, 3, 1, 8))
    subscribe(workspace, owner, "pro", "month", now=at(2026, 3, 1, 9), trial=True)
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 1, 10))
    if cancelled:
        preview = billing.preview_cancel(
            workspace=workspace, reason=CancelReason.TOO_EXPENSIVE, now=at(2026, 3, 2)
        )
        billing.apply_cancel(
            workspace=workspace,
            actor=owner,
            reason=CancelReason.TOO_EXPENSIVE,
            preview=preview,
            now=at(2026, 3, 2),
        )
    before = list(Seat.objects.filter(workspace=workspace).values())

    with pytest.raises(SeatPeriodDuringTrial) as refused:
        _set(workspace, owner, paid, "week", now=at(2026, 3, 4, 9))

    assert "une fois l’essai terminé" in str(refused.value.message)
    assert list(Seat.objects.filter(workspace=workspace).values()) == before
    assert not SeatCharge.objects.filter(workspace=workspace).exists()


def test_after_the_trial_a_seat_period_can_be_changed(workspace, owner):
    for n in range(2):
        add_member(workspace, owner, f"included{n}@team.test", now=at(2026, 3, 1, 8))
    save_card(workspace, owner, now=at(2026, 3, 1, 8))
    subscribe(workspace, owner, "pro", "month", now=at(2026, 3, 1, 9), trial=True)
    paid = add_member(workspace, owner, "paid@team.test", now=at(2026, 3, 1, 10))
    tick(at(2026, 3, 8, 0, 30))  # the trial ends: the plan and the seat invoiced to 8 April

    seat = _set(workspace, owner, paid, "week", now=at(2026, 3, 10, 9))

    assert (seat.interval, seat.pending_interval, seat.pending_at) == ("month", "week", paris(2026, 4, 8))
