"""The credit services from a new workspace's allowance to consumption: refusals that
change nothing, idempotency keys (docs/rules/credits.md)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from billing.onboarding import workspace_open
from credits import errors, selectors, services
from credits.models import (
    CreditBalance,
    CreditGrant,
    LedgerEntry,
    Reservation,
)
from credits.sweeps import run_credit_sweeps
from credits.tasks import run_credit_sweeps_task
from tests.credits.conftest import NOW, _snapshot
from tests.credits.helpers import assert_ledger_consistent, utc
from tests.factories import (
    MembershipFactory,
    UserFactory,
)
from workspaces.models import Role

# --- a new workspace ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_workspace_has_its_free_allowance_from_the_moment_it_exists():
    owner = UserFactory()
    with time_machine.travel(utc(2026, 5, 20, 15), tick=False):
        workspace = workspace_open(owner=owner, name="Fresh")
    summary = selectors.credit_summary(workspace, now=utc(2026, 5, 20, 15))
    assert summary.balance == 10
    assert (summary.period_start, summary.period_end) == (dt.date(2026, 5, 1), dt.date(2026, 6, 1))
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_allowance_ensure_current_is_idempotent(workspace):
    for _ in range(3):
        services.allowance_ensure_current(workspace=workspace, now=NOW)
    assert CreditGrant.objects.filter(workspace=workspace).count() == 1
    assert LedgerEntry.objects.filter(workspace=workspace).count() == 1
    assert CreditBalance.objects.get(workspace=workspace).balance == 10


@pytest.mark.django_db
def test_the_sweep_grants_the_allowance_to_any_workspace_lacking_it(workspace, other_workspace):
    result = run_credit_sweeps(now=NOW)
    assert result["credit_balances_created"] >= 2
    assert result["allowances_reset"] >= 2
    for ws in (workspace, other_workspace):
        assert selectors.credit_summary(ws, now=NOW).balance == 10
    assert run_credit_sweeps(now=NOW) == {
        "credit_balances_created": 0,
        "allowances_reset": 0,
        "reservations_expired": 0,
    }


@pytest.mark.django_db
def test_the_celery_task_runs_the_sweeps(workspace):
    with time_machine.travel(NOW, tick=False):
        result = run_credit_sweeps_task.delay().get()
    assert result["allowances_reset"] >= 1
    assert CreditBalance.objects.get(workspace=workspace).balance == 10


# --- consume: refusals change nothing ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"action": "no_such_action"}, errors.UnknownAction),
        ({"quantity": 0}, errors.InvalidQuantity),
        ({"quantity": -3}, errors.InvalidQuantity),
        ({"quantity": errors.MAX_QUANTITY + 1}, errors.InvalidQuantity),
        ({"quantity": True}, errors.InvalidQuantity),
        ({"idempotency_key": ""}, errors.IdempotencyKeyRequired),
        ({"idempotency_key": "x" * 256}, errors.IdempotencyKeyRequired),
        ({"quantity": 200}, errors.InsufficientCredits),
    ],
)
def test_bad_consumptions_are_refused_and_change_nothing(funded, member, kwargs, error):
    before = _snapshot(funded)
    arguments = {"action": "summarize", "quantity": 1, "idempotency_key": "k", **kwargs}
    with pytest.raises(error):
        services.credits_consume(workspace=funded, actor=member, now=NOW, **arguments)
    with pytest.raises(error):
        services.credits_reserve(workspace=funded, actor=member, now=NOW, **arguments)
    assert _snapshot(funded) == before


@pytest.mark.django_db
def test_an_actor_from_another_workspace_is_refused(funded, other_workspace):
    stranger = other_workspace.memberships.first()
    with pytest.raises(errors.RoleNotAllowed):
        services.credits_consume(
            workspace=funded, actor=stranger, action="summarize", idempotency_key="x", now=NOW
        )


@pytest.mark.django_db
def test_insufficient_credits_reports_balance_and_requirement(funded, member):
    with pytest.raises(errors.InsufficientCredits) as refused:
        services.credits_consume(
            workspace=funded,
            actor=member,
            action="prototype_screen",
            quantity=30,
            idempotency_key="big",
            now=NOW,
        )
    assert (refused.value.balance, refused.value.required) == (110, 150)


# --- idempotency ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "second",
    [
        {"action": "translate"},
        {"quantity": 2},
        {"actor": "other"},
    ],
)
def test_a_key_reused_with_a_different_request_is_refused(funded, member, second):
    services.credits_consume(
        workspace=funded, actor=member, action="summarize", idempotency_key="k1", now=NOW
    )
    before = _snapshot(funded)
    arguments = {"action": "summarize", "quantity": 1, "actor": member, **second}
    if arguments["actor"] == "other":
        arguments["actor"] = MembershipFactory(workspace=funded, role=Role.MEMBER)
    with pytest.raises(errors.IdempotencyKeyReused):
        services.credits_consume(workspace=funded, idempotency_key="k1", now=NOW, **arguments)
    assert _snapshot(funded) == before


@pytest.mark.django_db
def test_a_consume_key_cannot_be_replayed_as_a_reservation(funded, member):
    services.credits_consume(
        workspace=funded, actor=member, action="summarize", idempotency_key="k1", now=NOW
    )
    with pytest.raises(errors.IdempotencyKeyReused):
        services.credits_reserve(
            workspace=funded, actor=member, action="summarize", idempotency_key="k1", now=NOW
        )


@pytest.mark.django_db
def test_a_reservation_replay_returns_the_same_reservation(funded, member):
    first = services.credits_reserve(
        workspace=funded, actor=member, action="prototype_screen", idempotency_key="r1", now=NOW
    )
    again = services.credits_reserve(
        workspace=funded, actor=member, action="prototype_screen", idempotency_key="r1", now=NOW
    )
    assert again.replayed is True
    assert again.reservation.pk == first.reservation.pk
    assert Reservation.objects.filter(workspace=funded).count() == 1
    assert selectors.credit_summary(funded, now=NOW).balance == 105
