"""The allowance across plan changes, expiry, add-ons and resets; time defaults
(docs/rules/credits.md#reset)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from credits import allowances, selectors, services
from credits.models import (
    CreditBalance,
    DailyUsage,
    LedgerEntry,
)
from tests.credits.conftest import NOW
from tests.credits.helpers import assert_ledger_consistent, utc
from tests.factories import (
    MembershipFactory,
    SubscriptionAddOnFactory,
    SubscriptionRowFactory,
    subscribe,
)
from workspaces.models import Role

# --- plan changes and add-ons ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_plan_change_applies_now_and_expires_the_old_allowance(workspace, member):
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    services.credits_consume(
        workspace=workspace, actor=member, action="summarize", quantity=3, idempotency_key="k", now=NOW
    )
    subscribe(workspace, plan="business", now=NOW)
    summary = selectors.credit_summary(workspace, now=NOW)
    assert summary.allowance == 50 * 2
    assert summary.balance == 100
    assert (summary.period_start, summary.period_end) == (dt.date(2026, 3, 10), dt.date(2026, 4, 10))
    assert LedgerEntry.objects.get(workspace=workspace, kind="expire").amount == -7
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_an_expired_subscription_falls_back_to_free(workspace):
    subscription = subscribe(workspace, plan="enterprise", now=utc(2026, 1, 5, 9)).subscription
    services.allowance_reset_for_plan_change(workspace=workspace, now=NOW)
    assert selectors.credit_summary(workspace, now=NOW).allowance == 100
    # Written directly: no service leaves a subscription expired (an expiry falls back to
    # Free), but the allowance must treat one that is as Free.
    subscription.status = "expired"
    subscription.save(update_fields=["status"])
    services.allowance_reset_for_plan_change(workspace=workspace, now=NOW)
    summary = selectors.credit_summary(workspace, now=NOW)
    assert (summary.allowance, summary.plan_name, summary.show_balance) == (10, "Free", False)
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_add_ons_grant_their_monthly_credits_in_their_own_bucket(workspace, member):
    # The row alone: the test counts the allowance expiries, and a purchase resets the
    # allowance itself.
    subscription = SubscriptionRowFactory(
        workspace=workspace, plan_code="business", interval="month", start=dt.date(2026, 3, 1), card=False
    )
    SubscriptionAddOnFactory(subscription=subscription, code="prototypes")
    SubscriptionAddOnFactory(subscription=subscription, code="ai-credits", quantity=2)
    services.allowance_reset_for_plan_change(workspace=workspace, now=NOW)
    summary = selectors.credit_summary(workspace, now=NOW)
    assert summary.buckets["plan_allowance"] == 100
    assert summary.buckets["addon_allowance"] == 350 + 2 * 1_000
    assert summary.allowance == 2_450
    assert allowances.allowance_of(workspace).total == 2_450
    # Both expire with the period (no roll-over).
    allowances.allowances_reset(now=utc(2026, 4, 1, 0, 5))
    assert LedgerEntry.objects.filter(workspace=workspace, kind="expire").count() == 2
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_the_reset_only_touches_due_workspaces(workspace, other_workspace):
    subscribe(workspace, plan="starter", now=utc(2026, 1, 20, 9))
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    services.allowance_ensure_current(workspace=other_workspace, now=NOW)
    other_ledger = LedgerEntry.objects.filter(workspace=other_workspace).count()
    # 20 March: Starter (renewal day 20) resets, Free (calendar) does not.
    assert allowances.allowances_reset(now=utc(2026, 3, 20, 0, 1)) == 1
    assert LedgerEntry.objects.filter(workspace=other_workspace).count() == other_ledger
    assert CreditBalance.objects.get(workspace=workspace).period_start == dt.date(2026, 3, 20)


@pytest.mark.django_db
def test_the_reset_grants_the_allowance_of_each_workspace(workspace, other_workspace):
    subscription = subscribe(workspace, plan="starter", now=utc(2026, 2, 28, 9)).subscription
    SubscriptionAddOnFactory(subscription=subscription, code="prototypes")
    MembershipFactory(workspace=workspace, role=Role.VISITOR)
    for ws in (workspace, other_workspace):
        services.allowance_reset_for_plan_change(workspace=ws, now=NOW)
        expected = allowances.allowance_of(ws)
        balance = CreditBalance.objects.get(workspace=ws)
        assert balance.allowance_total == expected.total
        assert (balance.period_start, balance.period_end) == expected.period(NOW.date())


@pytest.mark.django_db
def test_a_consume_right_after_the_period_end_uses_the_new_allowance_before_the_sweep(workspace, member):
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    services.credits_consume(
        workspace=workspace, actor=member, action="summarize", quantity=10, idempotency_key="a", now=NOW
    )
    april = utc(2026, 4, 1, 0, 0, 30)
    result = services.credits_consume(
        workspace=workspace, actor=member, action="summarize", idempotency_key="b", now=april
    )
    assert result.balance == 9
    assert CreditBalance.objects.get(workspace=workspace).period_start == dt.date(2026, 4, 1)
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_time_defaults_to_now(workspace, member):
    with time_machine.travel(utc(2026, 7, 14, 10), tick=False):
        services.allowance_ensure_current(workspace=workspace, now=timezone.now())
        result = services.credits_consume(
            workspace=workspace, actor=member, action="summarize", idempotency_key="t"
        )
    assert LedgerEntry.objects.get(pk=result.entry_id).created_at == utc(2026, 7, 14, 10)
    assert DailyUsage.objects.get(workspace=workspace).day == dt.date(2026, 7, 14)
