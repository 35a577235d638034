"""Ledger services beyond seed 000: reservations, idempotency, grants, refunds,
adjustments, plan changes, add-ons, the sweeps, and bad input that changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.utils import timezone

from billing.onboarding import workspace_open
from credits import allowances, errors, selectors, services
from credits.models import (
    CreditBalance,
    CreditGrant,
    DailyUsage,
    GrantBucket,
    LedgerEntry,
    Reservation,
    ReservationStatus,
)
from credits.sweeps import run_credit_sweeps
from credits.tasks import run_credit_sweeps_task
from tests.credits.helpers import add_addon, assert_ledger_consistent, subscribe, utc
from tests.factories import MembershipFactory, UserFactory
from workspaces.models import Role

NOW = utc(2026, 3, 10, 9)


@pytest.fixture
def funded(workspace):
    """The workspace's Free allowance (10) plus 100 purchased credits."""
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    services.credits_grant_purchased(
        workspace=workspace, credits=100, amount_paid_cents=500, currency="EUR", source="invoice:1", now=NOW
    )
    return workspace


def _snapshot(workspace):
    return (
        LedgerEntry.objects.filter(workspace=workspace).count(),
        CreditBalance.objects.get(workspace=workspace).balance,
        list(
            CreditGrant.objects.filter(workspace=workspace).order_by("id").values_list("remaining", flat=True)
        ),
        Reservation.objects.filter(workspace=workspace).count(),
        list(DailyUsage.objects.filter(workspace=workspace).values_list("credits_used", flat=True)),
    )


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


# --- reservations ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reserve_holds_capture_charges_and_counts_usage(funded, member):
    reserved = services.credits_reserve(
        workspace=funded, actor=member, action="prototype_screen", quantity=3, idempotency_key="r", now=NOW
    )
    assert reserved.reservation.amount == 15
    summary = selectors.credit_summary(funded, now=NOW)
    assert (summary.balance, summary.held) == (95, 15)
    assert not DailyUsage.objects.filter(workspace=funded).exists()
    captured = services.reservation_capture(workspace=funded, reservation_id=reserved.reservation.pk, now=NOW)
    assert (captured.status, captured.amount, captured.balance) == ("captured", 15, 95)
    assert DailyUsage.objects.get(workspace=funded).credits_used == 15
    # Capturing again is harmless; releasing a captured reservation is refused.
    again = services.reservation_capture(workspace=funded, reservation_id=reserved.reservation.pk, now=NOW)
    assert (again.status, again.entry_id) == ("captured", None)
    with pytest.raises(errors.ReservationNotHeld):
        services.reservation_release(workspace=funded, reservation_id=reserved.reservation.pk, now=NOW)
    assert DailyUsage.objects.get(workspace=funded).credits_used == 15
    assert selectors.credit_summary(funded, now=NOW).held == 0
    assert_ledger_consistent(funded)


@pytest.mark.django_db
def test_release_returns_the_credits_to_the_grants_they_came_from(funded, member):
    reserved = services.credits_reserve(
        workspace=funded, actor=member, action="prototype_screen", quantity=3, idempotency_key="r", now=NOW
    )
    # 10 from the allowance (expires first), 5 from the purchase.
    assert sorted(a["credits"] for a in Reservation.objects.get().allocations) == [5, 10]
    released = services.reservation_release(workspace=funded, reservation_id=reserved.reservation.pk, now=NOW)
    assert (released.status, released.returned, released.balance) == ("released", 15, 110)
    assert selectors.credit_summary(funded, now=NOW).buckets == {
        "plan_allowance": 10,
        "addon_allowance": 0,
        "purchased": 100,
        "free": 0,
    }
    assert (
        services.reservation_release(
            workspace=funded, reservation_id=reserved.reservation.pk, now=NOW
        ).entry_id
        is None
    )
    with pytest.raises(errors.ReservationNotHeld):
        services.reservation_capture(workspace=funded, reservation_id=reserved.reservation.pk, now=NOW)
    assert_ledger_consistent(funded)


@pytest.mark.django_db
def test_an_unclaimed_reservation_is_released_by_the_sweep_after_its_expiry(funded, member):
    reserved = services.credits_reserve(
        workspace=funded, actor=member, action="summarize", quantity=4, idempotency_key="r", now=NOW
    )
    assert run_credit_sweeps(now=NOW + dt.timedelta(minutes=9))["reservations_expired"] == 0
    assert run_credit_sweeps(now=NOW + dt.timedelta(minutes=11))["reservations_expired"] == 1
    reservation = Reservation.objects.get(pk=reserved.reservation.pk)
    assert reservation.status == ReservationStatus.EXPIRED
    assert selectors.credit_summary(funded, now=NOW).balance == 110
    with pytest.raises(errors.ReservationNotHeld):
        services.reservation_capture(workspace=funded, reservation_id=reservation.pk, now=NOW)
    assert_ledger_consistent(funded)


@pytest.mark.django_db
def test_a_release_after_the_reset_does_not_revive_an_expired_allowance(funded, member):
    reserved = services.credits_reserve(
        workspace=funded,
        actor=member,
        action="summarize",
        quantity=12,
        idempotency_key="r",
        now=NOW,
        hold_for=dt.timedelta(days=60),
    )
    later = utc(2026, 4, 1, 0, 5)
    assert run_credit_sweeps(now=later)["reservations_expired"] == 0
    released = services.reservation_release(
        workspace=funded, reservation_id=reserved.reservation.pk, now=later
    )
    # The 10 allowance credits belonged to March; only the 2 purchased ones come back.
    assert released.returned == 2
    assert selectors.credit_summary(funded, now=later).buckets["purchased"] == 100
    assert selectors.credit_summary(funded, now=later).buckets["plan_allowance"] == 10
    assert_ledger_consistent(funded)


@pytest.mark.django_db
def test_reservations_are_found_only_in_their_workspace(funded, member, other_workspace):
    reserved = services.credits_reserve(
        workspace=funded, actor=member, action="summarize", idempotency_key="r", now=NOW
    )
    services.allowance_ensure_current(workspace=other_workspace, now=NOW)
    for settle in (services.reservation_capture, services.reservation_release):
        with pytest.raises(errors.ReservationNotFound):
            settle(workspace=other_workspace, reservation_id=reserved.reservation.pk, now=NOW)
        with pytest.raises(errors.ReservationNotFound):
            settle(workspace=funded, reservation_id=uuid.uuid4(), now=NOW)
    assert Reservation.objects.get().status == ReservationStatus.HELD


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


# --- plan changes and add-ons ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_plan_change_applies_now_and_expires_the_old_allowance(workspace, member):
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    services.credits_consume(
        workspace=workspace, actor=member, action="summarize", quantity=3, idempotency_key="k", now=NOW
    )
    subscribe(workspace, "business", anchor=NOW.date())
    services.allowance_reset_for_plan_change(workspace=workspace, now=NOW)
    summary = selectors.credit_summary(workspace, now=NOW)
    assert summary.allowance == 50 * 2
    assert summary.balance == 100
    assert (summary.period_start, summary.period_end) == (dt.date(2026, 3, 10), dt.date(2026, 4, 10))
    assert LedgerEntry.objects.get(workspace=workspace, kind="expire").amount == -7
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_an_expired_subscription_falls_back_to_free(workspace):
    subscription = subscribe(workspace, "enterprise", anchor=dt.date(2026, 1, 5))
    services.allowance_reset_for_plan_change(workspace=workspace, now=NOW)
    assert selectors.credit_summary(workspace, now=NOW).allowance == 100
    subscription.status = "expired"
    subscription.save(update_fields=["status"])
    services.allowance_reset_for_plan_change(workspace=workspace, now=NOW)
    summary = selectors.credit_summary(workspace, now=NOW)
    assert (summary.allowance, summary.plan_name, summary.show_balance) == (10, "Free", False)
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_add_ons_grant_their_monthly_credits_in_their_own_bucket(workspace, member):
    subscription = subscribe(workspace, "business", anchor=dt.date(2026, 3, 1))
    add_addon(subscription, "prototypes")
    add_addon(subscription, "ai-credits", quantity=2)
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
    subscribe(workspace, "starter", anchor=dt.date(2026, 1, 20))
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    services.allowance_ensure_current(workspace=other_workspace, now=NOW)
    other_ledger = LedgerEntry.objects.filter(workspace=other_workspace).count()
    # 20 March: Starter (renewal day 20) resets, Free (calendar) does not.
    assert allowances.allowances_reset(now=utc(2026, 3, 20, 0, 1)) == 1
    assert LedgerEntry.objects.filter(workspace=other_workspace).count() == other_ledger
    assert CreditBalance.objects.get(workspace=workspace).period_start == dt.date(2026, 3, 20)


@pytest.mark.django_db
def test_the_reset_grants_the_allowance_of_each_workspace(workspace, other_workspace):
    subscription = subscribe(workspace, "starter", anchor=dt.date(2026, 2, 28))
    add_addon(subscription, "prototypes")
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
