"""Reservations: hold, capture, release, expiry by the sweep, tenant scoping
(docs/rules/credits.md#reserve-capture-release)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from credits import errors, selectors, services
from credits.models import (
    DailyUsage,
    Reservation,
    ReservationStatus,
)
from credits.sweeps import run_credit_sweeps
from tests.credits.conftest import NOW
from tests.credits.helpers import assert_ledger_consistent, utc

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
