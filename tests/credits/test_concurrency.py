"""Issue 4, acceptance 2 and 3: no overdraft with real parallel connections; a replay
charges once.

Each thread opens its own PostgreSQL connection (Django connections are per thread),
so the 16 workers really race on the same workspace's rows.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from credits import errors, selectors, services
from credits.models import CreditBalance, CreditGrant, DailyUsage, LedgerEntry
from tests.credits.helpers import assert_ledger_consistent
from tests.factories import MembershipFactory
from workspaces.models import Role

WORKERS = 16
ATTEMPTS_PER_WORKER = 500
CREDITS = 5_000


def _run_in_threads(target, count):
    barrier = threading.Barrier(count)
    failures: list[BaseException] = []

    def runner(index):
        try:
            barrier.wait()
            target(index)
        except BaseException as exc:  # re-raised in the main thread below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


@pytest.mark.django_db(transaction=True)
def test_16_workers_x_500_consumes_never_overdraw(workspace, other_workspace):
    now = timezone.now()
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    services.allowance_ensure_current(workspace=workspace, now=now)
    services.allowance_ensure_current(workspace=other_workspace, now=now)
    allowance = CreditBalance.objects.get(workspace=workspace).balance
    # Spend the Free allowance first, so exactly CREDITS purchased credits remain.
    services.credits_consume(
        workspace=workspace,
        actor=member,
        action="summarize",
        quantity=allowance,
        idempotency_key="drain",
        now=now,
    )
    services.credits_grant_purchased(
        workspace=workspace,
        credits=CREDITS,
        amount_paid_cents=2_500,
        currency="EUR",
        source="invoice:1",
        now=now,
    )
    other_before = selectors.ledger_sum(other_workspace)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(index):
        local: Counter[str] = Counter()
        for attempt in range(ATTEMPTS_PER_WORKER):
            try:
                services.credits_consume(
                    workspace=workspace,
                    actor=member,
                    action="summarize",
                    idempotency_key=f"w{index}-{attempt}",
                )
            except errors.InsufficientCredits:
                local["refused"] += 1
            else:
                local["charged"] += 1
        with lock:
            outcomes.update(local)

    _run_in_threads(worker, WORKERS)

    assert outcomes["charged"] == CREDITS
    assert outcomes["refused"] == WORKERS * ATTEMPTS_PER_WORKER - CREDITS
    assert CreditBalance.objects.get(workspace=workspace).balance == 0
    assert selectors.credit_summary(workspace).balance == 0
    grants_total = sum(CreditGrant.objects.filter(workspace=workspace).values_list("amount", flat=True))
    consumed = -sum(
        LedgerEntry.objects.filter(workspace=workspace, kind="consume").values_list("amount", flat=True)
    )
    assert consumed == grants_total == allowance + CREDITS
    assert selectors.ledger_sum(workspace) == 0
    assert LedgerEntry.objects.filter(workspace=workspace, kind="consume").count() == CREDITS + 1
    assert (
        sum(DailyUsage.objects.filter(workspace=workspace).values_list("credits_used", flat=True)) == consumed
    )
    assert_ledger_consistent(workspace)
    # The other tenant was not touched.
    assert selectors.ledger_sum(other_workspace) == other_before


@pytest.mark.django_db(transaction=True)
def test_the_same_key_from_16_workers_at_once_charges_once(workspace):
    now = timezone.now()
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    services.credits_grant_purchased(
        workspace=workspace, credits=100, amount_paid_cents=500, currency="EUR", source="invoice:2", now=now
    )
    before = selectors.ledger_sum(workspace)
    results = []
    lock = threading.Lock()

    def worker(index):
        result = services.credits_consume(
            workspace=workspace, actor=member, action="prototype_screen", idempotency_key="same-key"
        )
        with lock:
            results.append(result)

    _run_in_threads(worker, WORKERS)

    assert len(results) == WORKERS
    assert len({r.entry_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert {r.consumed for r in results} == {5}
    assert selectors.ledger_sum(workspace) == before - 5
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_replaying_a_consume_10_times_charges_once(workspace, member, other_workspace):
    now = timezone.now()
    services.allowance_ensure_current(workspace=workspace, now=now)
    before = CreditBalance.objects.get(workspace=workspace).balance

    results = [
        services.credits_consume(
            workspace=workspace,
            actor=member,
            action="summarize",
            quantity=2,
            idempotency_key="replay-me",
            now=now,
        )
        for _ in range(10)
    ]

    assert CreditBalance.objects.get(workspace=workspace).balance == before - 2
    assert LedgerEntry.objects.filter(workspace=workspace, kind="consume").count() == 1
    assert {(r.entry_id, r.consumed, r.balance) for r in results} == {(results[0].entry_id, 2, before - 2)}
    assert [r.replayed for r in results] == [False] + [True] * 9
    assert DailyUsage.objects.get(workspace=workspace).credits_used == 2
    # The same key in another workspace is another request.
    other_member = MembershipFactory(workspace=other_workspace, role=Role.MEMBER)
    other = services.credits_consume(
        workspace=other_workspace,
        actor=other_member,
        action="summarize",
        idempotency_key="replay-me",
        now=now,
    )
    assert other.replayed is False
    assert_ledger_consistent(workspace)
