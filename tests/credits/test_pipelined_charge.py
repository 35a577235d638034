"""The one-round-trip charge (outside any transaction): every outcome, and the cases it
hands over to the locked path (first use, a period to roll over)."""

from __future__ import annotations

import pytest

from credits import errors, ledger, selectors, services
from credits.models import CreditBalance, LedgerEntry, Reservation
from tests.credits.helpers import assert_ledger_consistent, utc
from tests.factories import MembershipFactory
from workspaces.models import Role

NOW = utc(2026, 3, 10, 9)
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def member(workspace):
    return MembershipFactory(workspace=workspace, role=Role.MEMBER)


@pytest.fixture
def pipelined_only(monkeypatch):
    """Fail if the locked path is used: the pipelined one must decide alone."""

    def refuse(request):
        raise AssertionError("the locked path was used")

    monkeypatch.setattr(ledger, "charge_locked", refuse)


@pytest.fixture
def funded(workspace):
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    return workspace


def _consume(workspace, member, **kwargs):
    arguments = {"action": "summarize", "quantity": 1, "idempotency_key": "k", "now": NOW, **kwargs}
    return services.credits_consume(workspace=workspace, actor=member, **arguments)


def test_charges_replays_and_refuses_in_one_round_trip(funded, member, pipelined_only):
    first = _consume(funded, member, quantity=2)
    assert (first.consumed, first.balance, first.replayed) == (2, 8, False)
    again = _consume(funded, member, quantity=2)
    assert (again.entry_id, again.replayed) == (first.entry_id, True)
    with pytest.raises(errors.IdempotencyKeyReused):
        _consume(funded, member, quantity=3)
    with pytest.raises(errors.UnknownAction):
        _consume(funded, member, action="teleport", idempotency_key="k2")
    with pytest.raises(errors.InsufficientCredits) as refused:
        _consume(funded, member, action="prototype_screen", quantity=2, idempotency_key="k3")
    assert (refused.value.balance, refused.value.required) == (8, 10)
    free = _consume(funded, member, action="alt_text", idempotency_key="k4")
    assert (free.consumed, free.balance) == (0, 8)
    assert LedgerEntry.objects.filter(workspace=funded, kind="consume").count() == 2
    assert_ledger_consistent(funded)


def test_reserve_and_its_replay_in_one_round_trip(funded, member, pipelined_only):
    held = services.credits_reserve(
        workspace=funded, actor=member, action="prototype_screen", idempotency_key="r", now=NOW
    )
    assert (held.reservation.amount, held.balance) == (5, 5)
    assert Reservation.objects.get().pk == held.reservation.pk
    again = services.credits_reserve(
        workspace=funded, actor=member, action="prototype_screen", idempotency_key="r", now=NOW
    )
    assert (again.replayed, again.reservation.pk) == (True, held.reservation.pk)
    services.reservation_capture(workspace=funded, reservation_id=held.reservation.pk, now=NOW)
    assert selectors.credit_summary(funded, now=NOW).balance == 5
    assert_ledger_consistent(funded)


def test_a_first_use_and_a_period_roll_over_go_through_the_locked_path(workspace, member):
    assert not CreditBalance.objects.filter(workspace=workspace).exists()
    result = _consume(workspace, member)
    assert result.balance == 9
    april = utc(2026, 4, 1, 0, 1)
    result = _consume(workspace, member, idempotency_key="april", now=april)
    assert result.balance == 9
    assert CreditBalance.objects.get(workspace=workspace).period_start.month == 4
    assert_ledger_consistent(workspace)


def test_a_failing_charge_rolls_back_and_leaves_the_connection_usable(funded, member, monkeypatch):
    from django.db import DatabaseError, connection

    from credits import sql

    monkeypatch.setattr(sql, "CONSUME", "SELECT 1 / 0 WHERE %(ws)s IS NOT NULL OR %(now)s IS NULL")
    with pytest.raises(DatabaseError, match="division by zero"):
        ledger.charge_pipelined(
            ledger.ChargeRequest(
                "consume", funded.pk, "summarize", 1, member.user_id, "boom", NOW, funded.billing_zone
            )
        )
    assert connection.connection.info.transaction_status == 0  # idle: rolled back, lock released
    assert LedgerEntry.objects.filter(workspace=funded).count() == 1
    monkeypatch.undo()
    assert _consume(funded, member, idempotency_key="after").balance == 9
