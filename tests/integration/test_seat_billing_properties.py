"""Whatever the team and the change: the preview is what is invoiced, and afterwards the
seat rows, the next renewal and the preview's renewal amount agree (seed 002: every paid
seat billed once, by the subscription when co-termed, else by its own renewal)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services as billing
from domain.seat_plan import wanted_paid_seats
from invoices.selectors import account_balance_cents
from subscriptions import errors
from subscriptions.models import Subscription
from teams import selectors as team_selectors
from teams import services as teams
from teams.models import Seat, SeatStatus
from tests.factories import line_text, price_id, subscribe
from tests.integration.helpers import add_member, at, save_card, tick

pytestmark = pytest.mark.django_db

OPERATIONS = st.one_of(
    st.tuples(st.just("customize"), st.integers(min_value=0, max_value=4)),
    st.tuples(st.just("change_plan"), st.sampled_from(["max", "team-starter"])),
    st.tuples(st.just("switch_to_annual"), st.just(0)),
)


def _apply(workspace, owner, operation, now):
    name, arg = operation
    if name == "customize":
        preview = billing.preview_customize(workspace=workspace, extra_seats=arg, now=now)
        return preview, billing.apply_customize(
            workspace=workspace, actor=owner, extra_seats=arg, preview=preview, now=now
        )
    if name == "change_plan":
        interval = Subscription.objects.get(workspace=workspace).price.interval
        pid = price_id(arg, interval)
        preview = billing.preview_change_plan(workspace=workspace, price_id=pid, now=now)
        return preview, billing.apply_change_plan(
            workspace=workspace, actor=owner, price_id=pid, preview=preview, now=now
        )
    preview = billing.preview_switch_to_annual(workspace=workspace, now=now)
    return preview, billing.apply_switch_to_annual(workspace=workspace, actor=owner, preview=preview, now=now)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    interval=st.sampled_from(["month", "year"]),
    members_at_start=st.integers(min_value=0, max_value=4),
    joiners=st.lists(st.sampled_from([None, "week", "month", "year"]), max_size=4),
    join_day=st.integers(min_value=1, max_value=6),
    invoiced_first=st.booleans(),
    operation=OPERATIONS,
    days_later=st.integers(min_value=1, max_value=14),
)
def test_preview_invoice_seats_and_renewal_agree(
    workspace, owner, interval, members_at_start, joiners, join_day, invoiced_first, operation, days_later
):
    with transaction.atomic():
        start = at(2026, 3, 1, 9)
        for n in range(members_at_start):
            add_member(workspace, owner, f"start{n}@team.test", now=start)
        save_card(workspace, owner, now=start)
        subscribe(workspace, owner, "pro", interval, now=start)
        joined = at(2026, 3, join_day, 10)
        for n, seat_interval in enumerate(joiners):
            membership = add_member(workspace, owner, f"joiner{n}@team.test", now=joined)
            if seat_interval is not None and team_selectors.seat_of(workspace, membership) is not None:
                teams.seat_billing_period_set(
                    workspace=workspace,
                    actor=owner,
                    membership=membership,
                    interval=seat_interval,
                    now=joined,
                )
        if invoiced_first:
            tick(joined + timedelta(days=1) - timedelta(hours=9, minutes=30))
        now = joined + timedelta(days=days_later)
        balance_before = account_balance_cents(workspace)
        try:
            preview, result = _apply(workspace, owner, operation, now)
        except (errors.NothingToChange, errors.AlreadyAnnual):
            transaction.set_rollback(True)
            return

        if result.invoice is not None:
            # The same lines: kind, words (written from the numbers) and amount.
            assert [
                (line.kind, line_text(line), line.amount_cents) for line in result.invoice.lines.all()
            ] == [(line.kind, line_text(line), line.amount_cents) for line in preview.lines]
            assert result.invoice.total_cents == preview.totals.total_cents
        else:
            assert account_balance_cents(workspace) == balance_before + preview.account_credit_cents

        subscription = Subscription.objects.select_related("plan", "price").get(workspace=workspace)
        active = list(Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE))
        licensed = team_selectors.licensed_count(workspace)
        assert len(active) == wanted_paid_seats(
            seats_are_free=subscription.plan.seats_are_free,
            licensed=licensed,
            included=subscription.plan.included_seats,
            extra_seats=subscription.extra_seats,
        )
        for seat in active:
            assert seat.coterm == (seat.interval == subscription.price.interval)
            if seat.coterm:
                assert (seat.period_start, seat.period_end) == (
                    subscription.current_period_start,
                    subscription.current_period_end,
                )
        quote = team_selectors.next_renewal(workspace)
        assert quote.amount_cents == preview.next_renewal_cents
        billed_seats = sum(line.quantity for line in quote.lines if line.kind == "seats")
        assert billed_seats == subscription.extra_seats + sum(1 for seat in active if seat.coterm)
        transaction.set_rollback(True)
