"""Reads: balance per bucket, allowance, remaining share, period, 30-day usage, purchase
history; scoped by workspace, in a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest

from credits import selectors, services
from tests.credits.helpers import utc
from tests.factories import MembershipFactory, subscribe
from workspaces.models import Role

NOW = utc(2026, 3, 20, 9)


@pytest.fixture
def busy(workspace, other_workspace):
    """A Starter workspace (2 licences = 50 credits) with usage, purchases and a hold,
    and another tenant with its own data."""
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    subscribe(workspace, plan="starter", now=utc(2026, 3, 3, 8))  # renewal day: the 3rd
    services.credits_grant_free(
        workspace=workspace, credits=30, reason="gift", source="g", now=utc(2026, 3, 4, 8)
    )
    services.credits_grant_purchased(
        workspace=workspace,
        credits=1_000,
        amount_paid_cents=500,
        currency="EUR",
        source="invoice:9",
        now=utc(2026, 3, 5, 8),
    )
    for day, quantity in ((4, 3), (10, 5), (19, 2), (20, 1)):
        services.credits_consume(
            workspace=workspace,
            actor=member,
            action="summarize",
            quantity=quantity,
            idempotency_key=f"d{day}",
            now=utc(2026, 3, day, 12),
        )
    services.credits_reserve(
        workspace=workspace, actor=member, action="prototype_screen", idempotency_key="h", now=NOW
    )
    other_member = MembershipFactory(workspace=other_workspace, role=Role.MEMBER)
    services.credits_grant_purchased(
        workspace=other_workspace,
        credits=777,
        amount_paid_cents=100,
        currency="EUR",
        source="invoice:9",
        now=NOW,
    )
    services.credits_consume(
        workspace=other_workspace,
        actor=other_member,
        action="summarize",
        quantity=4,
        idempotency_key="d20",
        now=NOW,
    )
    return workspace


@pytest.mark.django_db
def test_credit_summary(busy, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        summary = selectors.credit_summary(busy, now=NOW)
    # 11 used + 5 held come from the allowance (50), which expires first.
    assert summary.buckets == {"plan_allowance": 34, "addon_allowance": 0, "purchased": 1_000, "free": 30}
    assert summary.balance == 1_064
    assert summary.held == 5
    assert (summary.allowance, summary.allowance_remaining, summary.allowance_used) == (50, 34, 16)
    assert summary.remaining_percent == "68.00"
    assert summary.remaining_basis_points == 6_800
    assert (summary.period_start, summary.period_end) == (dt.date(2026, 3, 3), dt.date(2026, 4, 3))
    assert (summary.show_balance, summary.plan_name) == (True, "Starter")


@pytest.mark.django_db
def test_remaining_percent_rounds_half_up_to_two_decimals():
    summary = selectors.CreditSummary(
        balance=0,
        buckets={},
        held=0,
        allowance=28_000_000,
        allowance_remaining=22_570_800,
        period_start=None,
        period_end=None,
        show_balance=True,
    )
    assert summary.remaining_percent == "80.61"
    assert (
        selectors.CreditSummary(
            balance=0,
            buckets={},
            held=0,
            allowance=3,
            allowance_remaining=2,
            period_start=None,
            period_end=None,
            show_balance=True,
        ).remaining_percent
        == "66.67"
    )


@pytest.mark.django_db
def test_summary_of_a_workspace_without_credits_yet(workspace):
    summary = selectors.credit_summary(workspace, now=NOW)
    assert (summary.balance, summary.allowance, summary.remaining_percent, summary.period_end) == (
        0,
        0,
        "0.00",
        None,
    )
    assert summary.show_balance is False  # Free hides the balance (seed 000)


@pytest.mark.django_db
def test_usage_series_has_30_points_with_zeros(busy, django_assert_num_queries):
    with django_assert_num_queries(1):
        series = selectors.usage_series(busy, today=dt.date(2026, 3, 20))
    assert len(series) == 30
    assert series[0].day == dt.date(2026, 2, 19)
    assert series[-1].day == dt.date(2026, 3, 20)
    used = {p.day.day: p.credits for p in series if p.credits}
    # The held reservation is not usage; the other tenant's 4 credits are not ours.
    assert used == {4: 3, 10: 5, 19: 2, 20: 1}
    assert sum(p.credits for p in series) == 11


@pytest.mark.django_db
def test_purchase_history_newest_first_with_free_grants_at_zero(busy, django_assert_num_queries):
    with django_assert_num_queries(1):
        history = list(selectors.purchase_history(busy))
    assert [(g.bucket, g.amount, g.amount_paid_cents) for g in history] == [
        ("purchased", 1_000, 500),
        ("free", 30, 0),
    ]


@pytest.mark.django_db
def test_ledger_sum_is_the_balance(busy, other_workspace):
    assert selectors.ledger_sum(busy) == selectors.credit_summary(busy, now=NOW).balance
    assert selectors.ledger_sum(other_workspace) == 10 + 777 - 4
