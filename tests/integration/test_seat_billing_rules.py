"""Who pays for which seat when billing and teams meet (docs/rules/plans.md#seats,
docs/rules/proration.md#seat-billing-periods): renewals, plan changes, the annual
switch, customization, trials, expiry and the daily seat job never bill a seat twice
nor forget one."""

from __future__ import annotations

import pytest

from billing import services as billing
from billing.services.renewals import renew_due_subscriptions
from invoices.models import AccountBalanceEntry, Invoice
from invoices.selectors import account_balance_cents
from subscriptions import errors
from subscriptions.models import Subscription
from teams import selectors as team_selectors
from teams import services as teams
from teams.models import ChargeStatus, Seat, SeatCharge, SeatStatus
from tests.factories import line_text, price_id, subscribe
from tests.integration.helpers import add_member, at, invoices, lines_of, save_card, tick
from tests.teams.conftest import paris

pytestmark = pytest.mark.django_db

PRO_WEEK, PRO_MONTH, PRO_YEAR = 499, 1_299, 8_999
MAX_WEEK, MAX_MONTH = 899, 2_499


def _team(workspace, owner, *, plan="pro", interval="month", start=None, members=2):
    """The owner and ``members`` members (on the included seats), a card, a subscription."""
    start = start or at(2026, 3, 1, 9)
    for n in range(members):
        add_member(workspace, owner, f"included{n}@team.test", now=start)
    save_card(workspace, owner, now=start)
    subscribe(workspace, owner, plan, interval, now=start)
    return Subscription.objects.get(workspace=workspace)


def _paid_member(workspace, owner, email, *, now, interval=None):
    membership = add_member(workspace, owner, email, now=now)
    if interval is not None:
        teams.seat_billing_period_set(
            workspace=workspace, actor=owner, membership=membership, interval=interval, now=now
        )
    return membership


def _seat(email):
    return Seat.objects.get(user_email=email)


# --- renewals bill the co-termed seats only ------------------------------------------------------


@pytest.mark.parametrize("path", ["sweep", "apply_renew"])
def test_a_renewal_bills_the_cotermed_seats_never_a_seat_on_its_own_interval(
    workspace, owner, other_workspace, path
):
    _team(workspace, owner, interval="year", start=at(2026, 1, 1, 9), members=3)  # 1 co-termed seat
    _paid_member(workspace, owner, "weekly@team.test", now=at(2026, 2, 1, 9), interval="week")
    assert team_selectors.coterm_paid_seat_count(workspace) == 1
    due = at(2027, 1, 1, 0, 5)

    quote = team_selectors.next_renewal(workspace)
    preview = billing.preview_renew(workspace=workspace, now=due)
    if path == "sweep":
        assert renew_due_subscriptions(now=due).invoiced == 1
        invoice = Invoice.objects.get(workspace=workspace, billing_reason="subscription_cycle")
    else:
        invoice = billing.apply_renew(workspace=workspace, preview=preview, now=due).invoice

    expected = [("plan", PRO_YEAR), ("seats", PRO_YEAR)]
    assert [(line.kind, line.amount_cents) for line in quote.lines] == expected
    assert [(line.kind, line.amount_cents) for line in preview.lines] == expected
    assert lines_of(invoice) == expected
    # 2 × 89,99 € = 179,98 €; VAT 35,996 € → 36,00 €; 215,98 €
    assert invoice.total_cents == quote.amount_cents == preview.totals.total_cents == 21_598
    assert team_selectors.billable_seat_count(workspace) == 1
    assert not Invoice.objects.filter(workspace=other_workspace).exists()


def test_billing_tick_moves_cotermed_seats_into_the_period_it_just_renewed(workspace, owner):
    _team(workspace, owner, interval="year", start=at(2026, 1, 1, 9), members=3)
    seat = Seat.objects.get(workspace=workspace)
    assert seat.period_end == paris(2027, 1, 1)

    out = tick(at(2027, 1, 1, 0, 30))

    assert "renewed: 1" in out
    assert "coterm_synced: 1" in out  # the seat sweeps ran after billing, in the same tick
    seat.refresh_from_db()
    assert (seat.period_start, seat.period_end) == (paris(2027, 1, 1), paris(2028, 1, 1))


# --- changes: the subscription invoice and the seat rows agree ---------------------------------------


def test_buying_an_extra_seat_that_replaces_a_monthly_seat_credits_its_unused_month(workspace, owner):
    _team(workspace, owner, interval="year", start=at(2026, 1, 1, 9))
    _paid_member(workspace, owner, "monthly@team.test", now=at(2026, 3, 1, 9), interval="month")
    tick(at(2026, 3, 2, 0, 30))  # the monthly seat's first month, invoiced the day after
    assert lines_of(invoices(workspace)[-1]) == [("seat_proration", PRO_MONTH)]
    now = at(2026, 3, 10, 9)

    preview = billing.preview_customize(workspace=workspace, extra_seats=1, now=now)
    result = billing.apply_customize(
        workspace=workspace, actor=owner, extra_seats=1, preview=preview, now=now
    )

    # The extra seat: 10 of 12 months × 89,99 €; the monthly seat it replaces: 22 of 31 days back.
    # 89,99 € × 10/12 = 74,991… → 74,99 €; 12,99 € × 22/31 = 9,218… → 9,22 €
    assert [(line.kind, line_text(line), line.amount_cents) for line in preview.lines] == [
        (
            "seat_proration",
            "Pro, sièges supplémentaires | 1 × 89,99\u00a0€ × 10/12 mois = 74,99\u00a0€",
            7_499,
        ),
        (
            "credit",
            "Temps non utilisé sur un siège Pro — monthly@team.test | -1 × 12,99\u00a0€ × 22/31 jours = -9,22\u00a0€",
            -922,
        ),
    ]
    assert lines_of(result.invoice) == [("seat_proration", 7_499), ("credit", -922)]
    # 74,99 € − 9,22 € = 65,77 €; VAT 13,154 € → 13,15 €; 78,92 €
    assert result.invoice.total_cents == preview.totals.total_cents == 7_892
    assert _seat("monthly@team.test").status == SeatStatus.REMOVED
    assert team_selectors.seat_summary(workspace).paid == 0
    # The month it held is not billed again, and it never renews on its own again.
    assert "seat_invoices: 0" in tick(at(2026, 3, 11, 0, 30))
    assert "seat_invoices: 0" in tick(at(2026, 4, 1, 0, 30))
    assert team_selectors.next_renewal(workspace).lines[1].quantity == 1  # the extra seat


def test_a_plan_change_reprices_a_weekly_seat_for_the_rest_of_its_week(workspace, owner, other_workspace):
    _team(workspace, owner)  # Pro monthly from 1 March
    _paid_member(workspace, owner, "coterm@team.test", now=at(2026, 3, 1, 10))
    _paid_member(workspace, owner, "weekly@team.test", now=at(2026, 3, 1, 10), interval="week")
    tick(at(2026, 3, 2, 0, 30))
    now = at(2026, 3, 4, 9)

    preview = billing.preview_change_plan(workspace=workspace, price_id=price_id("max", "month"), now=now)
    result = billing.apply_change_plan(
        workspace=workspace, actor=owner, price_id=price_id("max", "month"), preview=preview, now=now
    )

    assert [(line.kind, line_text(line), line.amount_cents) for line in preview.lines] == [
        # Base + the co-termed seat, 28 of 31 days, on each plan: 49,98 € × 28/31 = 45,143… → 45,14 €,
        # 25,98 € × 28/31 = 23,465… → 23,47 €.
        (
            "plan_proration",
            "Forfait Max, reste de la période | 1 × 49,98\u00a0€ × 28/31 jours = 45,14\u00a0€",
            4_514,
        ),
        ("credit", "Temps non utilisé sur Pro | -1 × 25,98\u00a0€ × 28/31 jours = -23,47\u00a0€", -2_347),
        # The weekly seat, 4 of its 7 days, at the new price then the old one:
        # 8,99 € × 4/7 = 5,137… → 5,14 €; 4,99 € × 4/7 = 2,851… → 2,85 €.
        ("seat_proration", "Siège Max — weekly@team.test | 1 × 8,99\u00a0€ × 4/7 jours = 5,14\u00a0€", 514),
        (
            "credit",
            "Temps non utilisé sur un siège Pro — weekly@team.test | -1 × 4,99\u00a0€ × 4/7 jours = -2,85\u00a0€",
            -285,
        ),
    ]
    assert lines_of(result.invoice) == [(line.kind, line.amount_cents) for line in preview.lines]
    weekly, coterm = _seat("weekly@team.test"), _seat("coterm@team.test")
    assert (weekly.interval, weekly.coterm, weekly.price_cents) == ("week", False, MAX_WEEK)
    assert (coterm.interval, coterm.coterm, coterm.price_cents) == ("month", True, MAX_MONTH)

    tick(at(2026, 3, 8, 0, 30))  # the weekly seat's anniversary: at the Max price from now on
    assert lines_of(invoices(workspace)[-1]) == [("seats", MAX_WEEK)]
    assert preview.next_renewal_cents == team_selectors.next_renewal(workspace).amount_cents
    # Max base and the co-termed seat: 2 × 24,99 € = 49,98 €; VAT 9,996 € → 10,00 €; 59,98 €
    assert preview.next_renewal_cents == 5_998
    assert not Seat.objects.filter(workspace=other_workspace).exists()


def test_switching_to_annual_brings_an_annual_seat_under_the_subscription(workspace, owner):
    _team(workspace, owner)  # Pro monthly from 1 March
    _paid_member(workspace, owner, "annual@team.test", now=at(2026, 3, 1, 10), interval="year")
    _paid_member(workspace, owner, "coterm@team.test", now=at(2026, 3, 1, 11))
    tick(at(2026, 3, 2, 0, 30))
    assert sorted(lines_of(invoices(workspace)[-1])) == [
        ("seat_proration", PRO_MONTH),
        ("seat_proration", PRO_YEAR),
    ]
    now = at(2026, 3, 10, 9)

    preview = billing.preview_switch_to_annual(workspace=workspace, now=now)
    result = billing.apply_switch_to_annual(workspace=workspace, actor=owner, preview=preview, now=now)

    assert [(line.kind, line.amount_cents) for line in preview.lines] == [
        ("plan", PRO_YEAR),
        ("seats", 2 * PRO_YEAR),  # the co-termed seat and the annual seat, now co-termed
        ("credit", -1_844),  # the unused monthly time: base + 1 seat, 22 of 31 days
        ("credit", -PRO_YEAR),  # the annual seat's own year, 12 of 12 months left
    ]
    assert lines_of(result.invoice) == [(line.kind, line.amount_cents) for line in preview.lines]
    for email in ("annual@team.test", "coterm@team.test"):
        seat = _seat(email)
        assert (seat.interval, seat.coterm) == ("year", True)
        assert (seat.period_start, seat.period_end) == (paris(2026, 3, 10), paris(2027, 3, 10))
    # Its old anniversary is gone: 1 March 2027 renews nothing; 10 March 2027 the subscription does.
    assert "seat_invoices: 0" in tick(at(2027, 3, 1, 0, 30))
    tick(at(2027, 3, 10, 0, 30))
    assert lines_of(invoices(workspace)[-1]) == [("plan", PRO_YEAR), ("seats", 2 * PRO_YEAR)]


def test_a_seat_billed_by_the_subscription_is_credited_when_it_moves_to_monthly(workspace, owner):
    """The seat's year was on the subscription's invoice: moving it to monthly billing
    credits that year (seed 002's removal rule) instead of charging the seat twice, when
    its current month ends (docs/rules/proration.md#changing-a-seats-period): January is
    not paid twice."""
    for n in range(3):
        add_member(workspace, owner, f"m{n}@team.test", now=at(2026, 1, 1, 8))
    save_card(workspace, owner, now=at(2026, 1, 1, 8))
    result = subscribe(workspace, owner, "pro", "year", now=at(2026, 1, 1, 9))
    assert lines_of(result.invoice) == [("plan", PRO_YEAR), ("seats", PRO_YEAR)]
    seated = Seat.objects.get(workspace=workspace).membership

    teams.seat_billing_period_set(
        workspace=workspace, actor=owner, membership=seated, interval="month", now=at(2026, 1, 1, 10)
    )

    # Nothing until January ends; then 11 of 12 months back (January was used), the first
    # month, February, charged the day after.
    assert account_balance_cents(workspace) == 0
    assert "seat_invoices: 0" in tick(at(2026, 1, 2, 0, 30))
    tick(at(2026, 2, 1, 0, 30))
    # 11 of 12 months × 89,99 € = 82,49 € HT, + VAT 16,498 → 16,50 € = 98,99 €, by a credit note.
    assert account_balance_cents(workspace) == 9_899
    tick(at(2026, 2, 2, 0, 30))
    seat_invoice = invoices(workspace)[-1]
    assert lines_of(seat_invoice) == [("seat_proration", PRO_MONTH)]
    assert seat_invoice.account_credit_applied_cents == 1_559  # 12,99 € + 2,60 € VAT
    assert team_selectors.next_renewal(workspace).lines[-1].kind == "plan"  # no seat on it any more


# --- trials, the renewal day, expiry -----------------------------------------------------------------


def test_seats_taken_during_a_trial_are_billed_by_its_end_not_by_the_seat_job(workspace, owner):
    for n in range(2):
        add_member(workspace, owner, f"m{n}@team.test", now=at(2026, 3, 1, 8))
    save_card(workspace, owner, now=at(2026, 3, 1, 8))
    subscribe(workspace, owner, "pro", "month", now=at(2026, 3, 1, 9), trial=True)
    add_member(workspace, owner, "kept@team.test", now=at(2026, 3, 3, 9))
    gone = add_member(workspace, owner, "gone@team.test", now=at(2026, 3, 3, 10))
    assert Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE).count() == 2
    assert not SeatCharge.objects.filter(workspace=workspace).exists()
    assert "seat_invoices: 0" in tick(at(2026, 3, 4, 0, 30))

    removal = teams.member_remove(workspace=workspace, actor=owner, membership=gone, now=at(2026, 3, 5, 9))

    assert removal.total_credit_cents == 0  # nothing of the trial was paid
    assert not AccountBalanceEntry.objects.filter(workspace=workspace).exists()
    tick(at(2026, 3, 8, 0, 30))  # the 7-day trial ends
    (first,) = invoices(workspace)
    assert (first.billing_reason, lines_of(first)) == (
        "subscription_create",
        [("plan", PRO_MONTH), ("seats", PRO_MONTH)],
    )
    assert "seat_invoices: 0" in tick(at(2026, 3, 9, 0, 30))


@pytest.mark.parametrize("interval", ["month", "year"])
def test_a_cancelled_trial_is_still_a_trial_for_its_seats(workspace, owner, interval):
    """Cancelling a trial does not make its days paid: a seat taken afterwards is not
    charged for them, and a seat released is not credited for them (docs/rules/lifecycle.md#trial)."""
    for n in range(2):
        add_member(workspace, owner, f"m{n}@team.test", now=at(2026, 3, 1, 8))
    save_card(workspace, owner, now=at(2026, 3, 1, 8))
    subscribe(workspace, owner, "pro", interval, now=at(2026, 3, 1, 9), trial=True)
    gone = add_member(workspace, owner, "gone@team.test", now=at(2026, 3, 1, 10))
    cancel = billing.preview_cancel(workspace=workspace, reason="too_expensive", now=at(2026, 3, 2, 9))
    billing.apply_cancel(
        workspace=workspace, actor=owner, reason="too_expensive", preview=cancel, now=at(2026, 3, 2, 9)
    )

    add_member(workspace, owner, "late@team.test", now=at(2026, 3, 3, 9))
    removal = teams.member_remove(workspace=workspace, actor=owner, membership=gone, now=at(2026, 3, 5, 9))

    assert not SeatCharge.objects.filter(workspace=workspace).exists()
    assert removal.total_credit_cents == 0
    assert not AccountBalanceEntry.objects.filter(workspace=workspace).exists()
    tick(at(2026, 3, 8, 0, 30))  # the 7-day trial ends with the subscription
    assert Subscription.objects.get(workspace=workspace).plan.code == "free"
    assert invoices(workspace) == []
    assert not AccountBalanceEntry.objects.filter(workspace=workspace).exists()


def test_a_member_joining_before_the_renewal_ran_is_billed_by_the_renewal_only(workspace, owner):
    _team(workspace, owner)  # Pro monthly, period ends 1 April
    add_member(workspace, owner, "early@team.test", now=at(2026, 4, 1, 0, 10))  # renewal not run yet

    assert not SeatCharge.objects.filter(workspace=workspace).exists()
    seat = _seat("early@team.test")
    assert (seat.coterm, seat.period_start, seat.period_end) == (True, paris(2026, 4, 1), paris(2026, 5, 1))
    tick(at(2026, 4, 1, 0, 30))
    assert lines_of(invoices(workspace)[-1]) == [("plan", PRO_MONTH), ("seats", PRO_MONTH)]
    assert "seat_invoices: 0" in tick(at(2026, 4, 2, 0, 30))
    assert len(invoices(workspace)) == 2


def test_an_expiry_ends_the_paid_seats_and_their_pending_charges(workspace, owner):
    _team(workspace, owner)
    _paid_member(workspace, owner, "coterm@team.test", now=at(2026, 3, 10, 9))
    _paid_member(workspace, owner, "weekly@team.test", now=at(2026, 3, 10, 9), interval="week")
    assert SeatCharge.objects.filter(workspace=workspace, status=ChargeStatus.PENDING).count() == 2

    billing.apply_expire(workspace=workspace, now=at(2026, 3, 10, 12))

    assert not Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE).exists()
    assert not SeatCharge.objects.filter(workspace=workspace, status=ChargeStatus.PENDING).exists()
    assert "seat_invoices: 0" in tick(at(2026, 3, 11, 0, 30))
    assert team_selectors.seat_summary(workspace).paid == 0


def test_a_preview_goes_stale_when_a_seat_changes_its_billing_period(workspace, owner):
    _team(workspace, owner)
    member = _paid_member(workspace, owner, "coterm@team.test", now=at(2026, 3, 1, 10))
    now = at(2026, 3, 10, 9)
    preview = billing.preview_customize(workspace=workspace, extra_seats=1, now=now)
    teams.seat_billing_period_set(
        workspace=workspace, actor=owner, membership=member, interval="week", now=now
    )
    before = (
        list(Seat.objects.filter(workspace=workspace).values_list("pk", "status", "interval", "coterm")),
        Subscription.objects.get(workspace=workspace).extra_seats,
        Invoice.objects.filter(workspace=workspace).count(),
    )

    with pytest.raises(errors.StalePreview):
        billing.apply_customize(workspace=workspace, actor=owner, extra_seats=1, preview=preview, now=now)

    assert before == (
        list(Seat.objects.filter(workspace=workspace).values_list("pk", "status", "interval", "coterm")),
        Subscription.objects.get(workspace=workspace).extra_seats,
        Invoice.objects.filter(workspace=workspace).count(),
    )
