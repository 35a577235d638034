"""Issue 4, acceptance 1: the rules of seed 000 as tests, travelling in time.

Free 10/month reset on the 1st; Starter 25 × licences reset on the renewal day
(renewal on 3 March → resets on the 3rd; on the 31st → 30 April); Enterprise
calendar; seat changes apply at the next reset; unused allowance does not roll
over; purchased credits never expire and are used after the allowance; a prototype
screen costs 5; alt text costs 0; a failed action costs 0; a guest is refused.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from credits import errors, selectors, services, simulation
from credits.models import CreditBalance, CreditGrant, DailyUsage, GrantBucket, LedgerEntry
from credits.sweeps import run_credit_sweeps
from tests.credits.helpers import assert_ledger_consistent, utc
from tests.factories import MembershipFactory, subscribe
from workspaces.models import Role


def _allowance(workspace) -> CreditGrant:
    return CreditGrant.objects.get(
        workspace=workspace, bucket=GrantBucket.PLAN_ALLOWANCE, expired_at__isnull=True
    )


def _sweep():
    return run_credit_sweeps(now=timezone.now())


def _consume(workspace, actor, action="summarize", quantity=1, key=None):
    return services.credits_consume(
        workspace=workspace,
        actor=actor,
        action=action,
        quantity=quantity,
        idempotency_key=key
        or f"{action}-{quantity}-{timezone.now().isoformat()}-{LedgerEntry.objects.count()}",
    )


@pytest.mark.django_db
def test_free_gets_10_a_month_reset_on_the_1st_and_unused_credits_do_not_roll_over(
    workspace, member, other_workspace
):
    with time_machine.travel(utc(2026, 3, 10, 9), tick=False):
        _sweep()
        assert _allowance(workspace).amount == 10
        assert (_allowance(workspace).period_start, _allowance(workspace).period_end) == (
            dt.date(2026, 3, 1),
            dt.date(2026, 4, 1),
        )
        _consume(workspace, member, quantity=4)
        assert selectors.credit_summary(workspace).balance == 6
    # 31 March at 23:59 in Paris, the workspaces' billing time zone (UTC+2 in summer).
    with time_machine.travel(utc(2026, 3, 31, 21, 59), tick=False):
        assert _sweep()["allowances_reset"] == 0
        assert selectors.credit_summary(workspace).balance == 6
    with time_machine.travel(utc(2026, 4, 1, 0, 5), tick=False):
        result = _sweep()
        assert result["allowances_reset"] == 2  # workspace and other_workspace
        # The 6 unused credits expired (a ledger entry), and 10 new ones were granted: no roll-over.
        expiry = LedgerEntry.objects.get(workspace=workspace, kind="expire")
        assert expiry.amount == -6
        assert selectors.credit_summary(workspace).balance == 10
        assert _allowance(workspace).period_start == dt.date(2026, 4, 1)
        # Safe to run twice.
        assert _sweep()["allowances_reset"] == 0
        assert selectors.credit_summary(workspace).balance == 10
    assert_ledger_consistent(workspace)
    assert_ledger_consistent(other_workspace)


@pytest.mark.django_db
def test_starter_is_25_per_licence_reset_on_the_renewal_day_the_3rd(workspace, member):
    MembershipFactory(workspace=workspace, role=Role.ADMIN)
    MembershipFactory(workspace=workspace, role=Role.GUEST)  # holds no licence
    with time_machine.travel(utc(2026, 3, 3, 8), tick=False):
        subscribe(workspace, plan="starter", interval="year", now=timezone.now())
        grant = _allowance(workspace)
        assert grant.amount == 25 * 3  # owner, member, admin
        assert (grant.period_start, grant.period_end) == (dt.date(2026, 3, 3), dt.date(2026, 4, 3))
    # 2 April at 23:00 in Paris.
    with time_machine.travel(utc(2026, 4, 2, 21), tick=False):
        assert _sweep()["allowances_reset"] == 0
    with time_machine.travel(utc(2026, 4, 3, 0, 1), tick=False):
        _sweep()
        grant = _allowance(workspace)
        assert (grant.period_start, grant.period_end) == (dt.date(2026, 4, 3), dt.date(2026, 5, 3))
        assert grant.amount == 75
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_renewal_on_the_31st_resets_on_30_april(workspace):
    with time_machine.travel(utc(2026, 3, 31, 12), tick=False):
        subscribe(workspace, plan="starter", now=timezone.now())  # renewal day: the 31st
        assert (_allowance(workspace).period_start, _allowance(workspace).period_end) == (
            dt.date(2026, 3, 31),
            dt.date(2026, 4, 30),
        )
    # 29 April at 23:59 in Paris.
    with time_machine.travel(utc(2026, 4, 29, 21, 59), tick=False):
        assert _sweep()["allowances_reset"] == 0
    with time_machine.travel(utc(2026, 4, 30, 0, 1), tick=False):
        assert _sweep()["allowances_reset"] == 1
        assert (_allowance(workspace).period_start, _allowance(workspace).period_end) == (
            dt.date(2026, 4, 30),
            dt.date(2026, 5, 31),
        )
    with time_machine.travel(utc(2026, 5, 31, 0, 1), tick=False):
        assert _sweep()["allowances_reset"] == 1
        assert _allowance(workspace).period_start == dt.date(2026, 5, 31)


@pytest.mark.django_db
def test_enterprise_resets_on_the_calendar_month_whatever_the_renewal_day(workspace, member):
    with time_machine.travel(utc(2026, 3, 17, 12), tick=False):
        subscribe(workspace, plan="enterprise", now=timezone.now())
        grant = _allowance(workspace)
        assert grant.amount == 100 * 2
        assert (grant.period_start, grant.period_end) == (dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    with time_machine.travel(utc(2026, 4, 1, 0, 1), tick=False):
        assert _sweep()["allowances_reset"] == 1
        assert _allowance(workspace).period_start == dt.date(2026, 4, 1)


@pytest.mark.django_db
def test_seat_changes_apply_at_the_next_reset(workspace, member):
    with time_machine.travel(utc(2026, 3, 3, 8), tick=False):
        subscribe(workspace, plan="starter", now=timezone.now())
        assert _allowance(workspace).amount == 50
    with time_machine.travel(utc(2026, 3, 20, 8), tick=False):
        MembershipFactory(workspace=workspace, role=Role.MEMBER)
        MembershipFactory(workspace=workspace, role=Role.BILLING_ADMIN)
        _sweep()
        # Seed 000: the allowance follows the team size from the next billing date only.
        assert _allowance(workspace).amount == 50
        assert selectors.credit_summary(workspace).allowance == 50
    with time_machine.travel(utc(2026, 4, 3, 0, 1), tick=False):
        _sweep()
        assert _allowance(workspace).amount == 25 * 4
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_purchased_credits_never_expire_and_are_used_after_the_allowance(workspace, member):
    with time_machine.travel(utc(2026, 3, 10, 9), tick=False):
        services.allowance_ensure_current(workspace=workspace, now=timezone.now())
        services.credits_grant_purchased(
            workspace=workspace,
            credits=100,
            amount_paid_cents=500,
            currency="EUR",
            source="invoice:7",
            now=timezone.now(),
        )
        _consume(workspace, member, quantity=4)
        summary = selectors.credit_summary(workspace)
        # The allowance (expiring soonest) is drawn first.
        assert summary.buckets == {"plan_allowance": 6, "addon_allowance": 0, "purchased": 100, "free": 0}
        _consume(workspace, member, quantity=8)
        assert selectors.credit_summary(workspace).buckets["purchased"] == 98
    with time_machine.travel(utc(2026, 4, 1, 0, 5), tick=False):
        _sweep()
        summary = selectors.credit_summary(workspace)
        assert summary.buckets == {"plan_allowance": 10, "addon_allowance": 0, "purchased": 98, "free": 0}
        assert not LedgerEntry.objects.filter(
            workspace=workspace, kind="expire", grant__bucket="purchased"
        ).exists()
        _consume(workspace, member, quantity=3)
        assert selectors.credit_summary(workspace).buckets["purchased"] == 98
    with time_machine.travel(utc(2027, 4, 1, 0, 5), tick=False):
        _sweep()
        assert selectors.credit_summary(workspace).buckets["purchased"] == 98
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_a_prototype_screen_costs_5_and_quantity_multiplies(workspace, member):
    with time_machine.travel(utc(2026, 3, 10, 9), tick=False):
        services.allowance_ensure_current(workspace=workspace, now=timezone.now())
        assert _consume(workspace, member, "prototype_screen").consumed == 5
        # Two screens cost 10, more than the 5 left on Free: refused, nothing taken.
        with pytest.raises(errors.InsufficientCredits) as refused:
            _consume(workspace, member, "prototype_screen", quantity=2, key="two")
        assert (refused.value.required, refused.value.balance) == (10, 5)
        assert selectors.credit_summary(workspace).balance == 5
        assert _consume(workspace, member, "summarize", quantity=5).consumed == 5
        assert selectors.credit_summary(workspace).balance == 0
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_alt_text_costs_nothing_and_is_recorded(workspace, member):
    with time_machine.travel(utc(2026, 3, 10, 9), tick=False):
        services.allowance_ensure_current(workspace=workspace, now=timezone.now())
        result = _consume(workspace, member, "alt_text", quantity=3)
        assert result.consumed == 0
        assert result.balance == 10
        entry = LedgerEntry.objects.get(pk=result.entry_id)
        assert (entry.kind, entry.amount, entry.action.code, entry.quantity, entry.actor_id) == (
            "consume",
            0,
            "alt_text",
            3,
            member.user_id,
        )
        assert DailyUsage.objects.get(workspace=workspace).actions == 1
        assert DailyUsage.objects.get(workspace=workspace).credits_used == 0
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_a_failed_action_costs_nothing(workspace, member):
    with time_machine.travel(utc(2026, 3, 10, 9), tick=False):
        services.allowance_ensure_current(workspace=workspace, now=timezone.now())
        outcome = simulation.ai_action_perform(
            workspace=workspace,
            actor=member,
            action="prototype_screen",
            quantity=1,
            idempotency_key="fail-1",
            simulate_failure=True,
        )
        assert outcome.succeeded is False
        assert outcome.charged == 0
        assert selectors.credit_summary(workspace).balance == 10
        kinds = list(
            LedgerEntry.objects.filter(workspace=workspace).order_by("id").values_list("kind", "amount")
        )
        assert kinds == [("grant", 10), ("reserve", -5), ("release", 5)]
        assert not DailyUsage.objects.filter(workspace=workspace, credits_used__gt=0).exists()
        ok = simulation.ai_action_perform(
            workspace=workspace, actor=member, action="prototype_screen", quantity=1, idempotency_key="ok-1"
        )
        assert (ok.succeeded, ok.charged, ok.balance) == (True, 5, 5)
        assert DailyUsage.objects.get(workspace=workspace).credits_used == 5
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.GUEST, Role.VISITOR])
@pytest.mark.parametrize("action", ["summarize", "alt_text"])
def test_guests_and_visitors_are_refused_whatever_the_cost(workspace, member_with_role, role, action):
    outsider = member_with_role(role)
    services.allowance_ensure_current(workspace=workspace, now=timezone.now())
    before = LedgerEntry.objects.count()
    with pytest.raises(errors.RoleNotAllowed):
        _consume(workspace, outsider, action)
    with pytest.raises(errors.RoleNotAllowed):
        services.credits_reserve(workspace=workspace, actor=outsider, action=action, idempotency_key="g")
    assert LedgerEntry.objects.count() == before
    assert CreditBalance.objects.get(workspace=workspace).balance == 10


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN, Role.MEMBER])
def test_every_licensed_role_can_perform_ai_actions(workspace, member_with_role, role):
    actor = member_with_role(role)
    assert _consume(workspace, actor).consumed == 1
