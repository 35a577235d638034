"""The pure seat plan shared by billing's pricing and teams' seats_sync (seed 002)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.seat_plan import SeatState, plan_seats, wanted_paid_seats

PRO = {"week": 499, "month": 1_299, "year": 8_999}
TEAM_STARTER = {"month": 1_500, "year": 15_000}  # no weekly price
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def seat(n: int, interval: str = "year", coterm: bool = True, price: int | None = None) -> SeatState:
    return SeatState(
        id=n,
        email=f"s{n}@team.test",
        interval=interval,
        coterm=coterm,
        price_cents=PRO[interval] if price is None else price,
        period_start=T0,
        period_end=T0 + timedelta(days=365),
        added_at=T0 + timedelta(hours=n),
    )


def test_wanted_paid_seats_are_the_licences_beyond_included_and_extra():
    assert wanted_paid_seats(seats_are_free=False, licensed=5, included=3, extra_seats=0) == 2
    assert wanted_paid_seats(seats_are_free=False, licensed=5, included=3, extra_seats=2) == 0
    assert wanted_paid_seats(seats_are_free=False, licensed=2, included=3, extra_seats=4) == 0
    assert wanted_paid_seats(seats_are_free=True, licensed=12, included=0, extra_seats=0) == 0


def test_surplus_seats_end_cotermed_first_then_the_newest():
    seats = [seat(1), seat(2, "month", coterm=False), seat(3), seat(4, "week", coterm=False)]

    planned = plan_seats(seats, wanted=1, interval="year", seat_prices=PRO)

    # Co-termed seats end first (newest first), then the newest seat on its own interval.
    assert [s.id for s in planned.ended] == [3, 1, 4]
    assert [t.seat.id for t in planned.kept] == [2]
    assert [s.id for s in planned.ended_own_interval] == [4]
    assert planned.coterm_after == 0
    assert planned.added == 0


def test_missing_seats_are_added_cotermed():
    planned = plan_seats([seat(1, "month", coterm=False)], wanted=3, interval="year", seat_prices=PRO)

    assert planned.added == 2
    assert planned.coterm_after == 2  # the monthly seat stays billed on its own
    assert not planned.kept[0].changed


def test_a_switch_to_annual_brings_cotermed_and_annual_seats_to_the_subscription():
    seats = [seat(1, "month", coterm=True), seat(2, "year", coterm=False), seat(3, "week", coterm=False)]

    planned = plan_seats(seats, wanted=3, interval="year", seat_prices=PRO)

    terms = {t.seat.id: t for t in planned.kept}
    assert (terms[1].interval, terms[1].coterm, terms[1].price_cents) == ("year", True, 8_999)
    assert terms[2].joins_subscription
    assert terms[2].interval == "year"
    assert not terms[3].changed
    assert not terms[3].coterm
    assert planned.coterm_after == 2


def test_a_plan_without_the_seat_interval_moves_the_seat_to_the_subscription():
    seats = [seat(1, "week", coterm=False), seat(2, "month", coterm=False)]

    planned = plan_seats(seats, wanted=2, interval="year", seat_prices=TEAM_STARTER)

    terms = {t.seat.id: t for t in planned.kept}
    assert (terms[1].interval, terms[1].coterm, terms[1].price_cents) == ("year", True, 15_000)
    assert terms[1].joins_subscription
    assert (terms[2].interval, terms[2].coterm, terms[2].price_cents) == ("month", False, 1_500)
    assert terms[2].repriced_on_its_own
    assert planned.coterm_after == 1


def test_bad_plans_are_refused():
    with pytest.raises(ValueError, match="negative"):
        plan_seats([], wanted=-1, interval="year", seat_prices=PRO)
    with pytest.raises(ValueError, match="interval"):
        plan_seats([], wanted=0, interval="week", seat_prices=TEAM_STARTER)


@given(
    intervals=st.lists(st.sampled_from(["week", "month", "year"]), max_size=12),
    coterms=st.lists(st.booleans(), min_size=12, max_size=12),
    wanted=st.integers(min_value=0, max_value=15),
    interval=st.sampled_from(["month", "year"]),
    prices=st.sampled_from([PRO, TEAM_STARTER]),
)
def test_every_seat_is_billed_exactly_once_after_a_plan(intervals, coterms, wanted, interval, prices):
    seats = [
        seat(n, i, coterm=(i == interval) and c)
        for n, (i, c) in enumerate(zip(intervals, coterms[: len(intervals)], strict=True), start=1)
    ]

    planned = plan_seats(seats, wanted=wanted, interval=interval, seat_prices=prices)

    assert len(planned.kept) + planned.added == wanted
    assert {s.id for s in planned.ended} | {t.seat.id for t in planned.kept} == {s.id for s in seats}
    assert not {s.id for s in planned.ended} & {t.seat.id for t in planned.kept}
    for terms in planned.kept:
        # Co-termed exactly when on the subscription's interval: billed by it, else by
        # its own renewal, never by both.
        assert terms.coterm == (terms.interval == interval)
        assert terms.interval in prices
        assert terms.price_cents == prices[terms.interval]
    own = sum(1 for t in planned.kept if not t.coterm)
    assert planned.coterm_after + own == wanted
    # Co-termed seats end before any seat on its own interval does.
    if any(not s.coterm for s in planned.ended):
        assert not any(t.seat.coterm for t in planned.kept)
