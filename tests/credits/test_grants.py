"""Grants, refunds and operator adjustments (docs/rules/credits.md#grants)."""

from __future__ import annotations

import datetime as dt

import pytest

from credits import errors, selectors, services
from credits.models import (
    CreditGrant,
    GrantBucket,
    LedgerEntry,
)
from credits.sweeps import run_credit_sweeps
from tests.credits.conftest import NOW, _snapshot
from tests.credits.helpers import assert_ledger_consistent, utc

# --- grants, refunds and adjustments ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_purchase_is_idempotent_on_its_source(workspace):
    first = services.credits_grant_purchased(
        workspace=workspace,
        credits=1_000,
        amount_paid_cents=500,
        currency="EUR",
        source="invoice:42",
        now=NOW,
    )
    again = services.credits_grant_purchased(
        workspace=workspace,
        credits=1_000,
        amount_paid_cents=500,
        currency="EUR",
        source="invoice:42",
        now=NOW,
    )
    assert again.pk == first.pk
    assert (first.bucket, first.expires_at, first.amount_paid_cents) == (GrantBucket.PURCHASED, None, 500)
    assert selectors.credit_summary(workspace, now=NOW).buckets["purchased"] == 1_000
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
@pytest.mark.parametrize("credits", [0, -5, True])
def test_grants_refuse_a_non_positive_amount(workspace, credits):
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    before = _snapshot(workspace)
    with pytest.raises(errors.InvalidCredits):
        services.credits_grant_purchased(
            workspace=workspace, credits=credits, amount_paid_cents=0, currency="EUR", source="s", now=NOW
        )
    with pytest.raises(errors.InvalidCredits):
        services.credits_grant_free(workspace=workspace, credits=credits, reason="gift", now=NOW)
    assert _snapshot(workspace) == before


@pytest.mark.django_db
def test_free_credits_need_a_reason_and_never_expire(workspace, owner):
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    with pytest.raises(errors.ReasonRequired):
        services.credits_grant_free(workspace=workspace, credits=50, reason="  ", now=NOW)
    grant = services.credits_grant_free(
        workspace=workspace, credits=50, reason="Sorry for the outage", actor=owner.user, now=NOW
    )
    assert (grant.bucket, grant.expires_at, grant.amount_paid_cents, grant.granted_by) == (
        GrantBucket.FREE,
        None,
        0,
        owner.user,
    )
    run_credit_sweeps(now=utc(2026, 9, 1, 1))
    assert CreditGrant.objects.get(pk=grant.pk).remaining == 50
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_purchased_and_free_grants_are_used_oldest_first(workspace, member):
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    free = services.credits_grant_free(
        workspace=workspace, credits=5, reason="gift", now=NOW - dt.timedelta(days=2)
    )
    bought = services.credits_grant_purchased(
        workspace=workspace,
        credits=20,
        amount_paid_cents=100,
        currency="EUR",
        source="invoice:3",
        now=NOW - dt.timedelta(days=1),
    )
    services.credits_consume(
        workspace=workspace, actor=member, action="summarize", quantity=17, idempotency_key="k", now=NOW
    )
    assert CreditGrant.objects.get(pk=free.pk).remaining == 0
    assert CreditGrant.objects.get(pk=bought.pk).remaining == 18
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_a_refund_takes_back_what_is_left_of_the_purchase(funded, member):
    services.credits_consume(
        workspace=funded, actor=member, action="summarize", quantity=30, idempotency_key="k", now=NOW
    )
    assert services.credits_revoke_purchased(workspace=funded, source="invoice:1", now=NOW) == 80
    assert services.credits_revoke_purchased(workspace=funded, source="invoice:1", now=NOW) == 0
    assert services.credits_revoke_purchased(workspace=funded, source="invoice:404", now=NOW) == 0
    assert selectors.credit_summary(funded, now=NOW).balance == 0
    assert LedgerEntry.objects.filter(workspace=funded, kind="adjust").get().amount == -80
    assert_ledger_consistent(funded)


@pytest.mark.django_db
def test_operator_adjustments_need_a_reason_and_never_overdraw(funded, owner):
    with pytest.raises(errors.ReasonRequired):
        services.credits_adjust(workspace=funded, actor=owner.user, credits=5, reason="", now=NOW)
    with pytest.raises(errors.InvalidCredits):
        services.credits_adjust(workspace=funded, actor=owner.user, credits=0, reason="x", now=NOW)
    with pytest.raises(errors.InsufficientCredits):
        services.credits_adjust(workspace=funded, actor=owner.user, credits=-111, reason="too much", now=NOW)
    up = services.credits_adjust(workspace=funded, actor=owner.user, credits=7, reason="Goodwill", now=NOW)
    down = services.credits_adjust(
        workspace=funded, actor=owner.user, credits=-12, reason="Duplicate grant", now=NOW
    )
    assert (up.kind, up.amount, up.note, down.amount, down.balance_after) == (
        "adjust",
        7,
        "Goodwill",
        -12,
        105,
    )
    # Taken in consumption order: the allowance first.
    assert selectors.credit_summary(funded, now=NOW).buckets["plan_allowance"] == 0
    assert_ledger_consistent(funded)
