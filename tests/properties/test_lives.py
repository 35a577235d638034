"""Chosen lives of :class:`~tests.properties.test_billing_state_machine.BillingLife`, run
step by step with every invariant checked after each step, as Hypothesis replays a
failing example: the 3-D Secure paths of docs/rules/lifecycle.md#pay-then-apply and
docs/rules/payments.md#authentication run on every ``make test``, whatever the random
lives happen to draw.

The last four are product bugs the random lives found, kept as their shortest example
since they were fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from tests.properties import world
from tests.properties.test_billing_state_machine import BillingLife
from workspaces.models import Role

Step = Callable[[BillingLife], object]


def live(*steps: Step) -> list[str]:
    """Run the steps on a new life, the invariants after each; returns what it did."""
    state = BillingLife()
    try:
        for step in steps:
            step(state)
            state.books_balance()
        return list(state.steps)
    finally:
        state.teardown()


def opened(at: datetime, *, plan: tuple[str, str] | None, card_first: bool, members: int = 1) -> Step:
    return lambda s: s.open_workspaces(
        start=at, members=members, plan=plan, trial=False, extra=0, card=world.CARD_3DS, card_first=card_first
    )


def _did(steps: list[str], *said: str) -> None:
    for text in said:
        assert any(text in step for step in steps), f"never {text!r}: {steps}"


@pytest.mark.django_db
def test_changes_waiting_for_authentication() -> None:
    """A plan change waits; the customer's other changes are refused meanwhile; the payer
    authenticates and it is applied as previewed. Packs paid at once; a switch to annual
    whose authentication fails changes nothing."""
    steps = live(
        opened(datetime(2026, 3, 10, 8, 0, tzinfo=UTC), plan=("pro", "month"), card_first=False),
        lambda s: s.change_plan(pick=1, double=True, payer="leaves"),
        lambda s: s.customize(extra=2, packs=1, double=False, payer="leaves"),
        lambda s: s.wait_hours(hours=3),
        lambda s: s.authenticate(),
        lambda s: s.buy_credit_packs(packs=2, double=False, payer="authenticates"),
        lambda s: s.switch_to_annual(double=False, payer="fails"),
    )
    _did(
        steps,
        "awaits authentication",
        "refused (PaymentAwaitingAuthentication)",
        "paid and applied",
        "dropped",
    )


@pytest.mark.django_db
def test_a_change_left_waiting_lapses() -> None:
    """Subscribing from Free with a 3-D Secure card: never authenticated, the change lapses
    after 23 hours at the sweep; nothing is left to authenticate, nothing changed. The
    next subscription is authenticated at once."""
    steps = live(
        opened(datetime(2026, 1, 31, 10, 0, tzinfo=UTC), plan=None, card_first=True),
        lambda s: s.subscribe(plan=("business", "month"), extra=1, trial=False, double=False, payer="leaves"),
        lambda s: s.wait_hours(hours=22),
        lambda s: s.wait_days(days=1),
        lambda s: s.subscribe(
            plan=("starter", "month"), extra=0, trial=False, double=False, payer="authenticates"
        ),
    )
    _did(steps, "lapsed", "paid and applied")


@pytest.mark.django_db
def test_a_renewal_waiting_for_authentication_is_in_dunning() -> None:
    """A renewal charged with the 3-D Secure card goes to dunning (past due, retried); the
    payer authenticates it later from the link and the subscription is active again; a
    declined card then a good one pay the next."""
    steps = live(
        opened(datetime(2026, 1, 31, 10, 0, tzinfo=UTC), plan=("pro", "month"), card_first=False),
        lambda s: s.wait_for_next_due(minutes=0),
        lambda s: s.fail_authentication(),
        lambda s: s.wait_for_next_due(minutes=0),
        lambda s: s.authenticate_later(hours=2, pick=0, success=True),
        lambda s: s.save_declining_card(),
        lambda s: s.wait_for_next_due(minutes=0),
        lambda s: s.wait_for_next_due(minutes=0),
        lambda s: s.save_good_card(),
    )
    _did(steps, "(failed): failed", "(failed): paid")


# --- product bugs the random lives found, fixed ---------------------------------------------------


@pytest.mark.django_db
def test_a_renewal_whose_last_retry_asks_for_authentication() -> None:
    live(
        opened(datetime(2026, 1, 31, 10, 0, tzinfo=UTC), plan=("starter", "month"), card_first=False),
        lambda s: s.wait_months(months=2),
    )


@pytest.mark.django_db
def test_a_change_authenticated_the_next_day() -> None:
    live(
        opened(datetime(2026, 3, 10, 20, 0, tzinfo=UTC), plan=None, card_first=True),
        lambda s: s.subscribe(plan=("pro", "month"), extra=0, trial=False, double=False, payer="leaves"),
        lambda s: s.wait_hours(hours=5),
        lambda s: s.authenticate(),
    )


@pytest.mark.django_db
def test_a_licence_lost_while_a_change_waits() -> None:
    steps = live(
        opened(datetime(2026, 1, 31, 10, 0, tzinfo=UTC), plan=None, card_first=True),
        lambda s: s.subscribe(plan=("starter", "month"), extra=0, trial=False, double=False, payer="leaves"),
        lambda s: s.change_role(pick=0, role=Role.GUEST),
        lambda s: s.authenticate(),
    )
    _did(steps, "refused (PaymentAwaitingAuthentication)")


@pytest.mark.django_db
def test_subscribing_near_the_end_of_the_free_period() -> None:
    live(
        opened(datetime(2026, 1, 8, 10, 0, tzinfo=UTC), plan=None, card_first=True),
        lambda s: s.wait_days(days=30),
        lambda s: s.subscribe(plan=("pro", "month"), extra=0, trial=False, double=False, payer="leaves"),
    )
