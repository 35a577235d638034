"""Writes on the AI credit ledger (docs/rules/credits.md).

Rules enforced here:

* the ledger is append-only and the balance is its sum; it never goes negative,
  whatever the concurrency: every write locks the workspace's balance row first
  (docs/rules/credits.md#ledger);
* consumption order: the grant that expires soonest first, then the oldest;
  purchased and free grants never expire and are used last
  (docs/rules/credits.md#consumption-order);
* every consume/reserve carries an idempotency key, unique per workspace: a replay
  returns the first result and a different request with the same key is refused
  (docs/rules/credits.md#idempotency-keys);
* guests and visitors are refused whatever the cost; zero-cost actions are recorded
  (docs/rules/credits.md#who-can-consume);
* a failed action costs nothing: reserve, then capture on success or release
  (docs/rules/credits.md#reserve-capture-release).

The locking and charging machinery lives in :mod:`credits.ledger`, the allowance
(plan and add-on grants, periods, resets) in :mod:`credits.allowances`, the SQL in
:mod:`credits.sql`. Notices are emailed through the outbox, by task name
(:mod:`credits.notifications`): the tasks module is an entry point above this one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from credits import errors, ledger, notifications, sql
from credits.models import (
    EntryKind,
    Reservation,
    ReservationStatus,
)
from domain.calendar import day_of
from domain.checks import is_count
from outbox import metrics
from workspaces.models import Membership, Workspace
from workspaces.permissions import Capability, allows

#: The Celery task that emails a recorded allowance notice (:mod:`credits.tasks`).
SEND_CREDIT_NOTICE_TASK = notifications.SEND_CREDIT_NOTICE_TASK

#: How long credits stay held for an AI call before the sweep releases them.
RESERVATION_TTL = timedelta(minutes=10)
MAX_IDEMPOTENCY_KEY_LENGTH = 255


@dataclass(frozen=True)
class ConsumeResult:
    entry_id: int
    consumed: int
    balance: int
    replayed: bool = False


@dataclass(frozen=True)
class ReserveResult:
    reservation: Reservation
    balance: int
    replayed: bool = False


@dataclass(frozen=True)
class SettleResult:
    reservation_id: uuid.UUID
    status: str
    amount: int
    balance: int
    entry_id: int | None
    returned: int = 0


def _check_request(workspace: Workspace, actor: Membership, quantity: int, idempotency_key: str) -> str:
    # Guests and visitors cannot perform AI actions, whatever the cost
    # (docs/rules/credits.md#who-can-consume).
    if actor.workspace_id != workspace.pk or not allows(actor.role, Capability.USE_AI):
        raise errors.RoleNotAllowed()
    if not is_count(quantity, 1, errors.MAX_QUANTITY):
        raise errors.InvalidQuantity()
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise errors.IdempotencyKeyRequired()
    return key


def _notify(workspace: Workspace, state: ledger.State, allowance_used: int, now: datetime) -> None:
    """Record the 80/100 % notices a charge crossed; their email is queued with them."""
    notifications.record_crossings(
        workspace_id=workspace.pk,
        period_start=state.period_start,
        allowance_used=allowance_used,
        allowance_total=state.allowance_total,
        notified_percent=state.notified_percent,
        now=now,
    )


# --- consume, reserve -------------------------------------------------------------------------------


def credits_consume(
    *,
    workspace: Workspace,
    actor: Membership,
    action: str,
    quantity: int = 1,
    idempotency_key: str,
    now: datetime | None = None,
) -> ConsumeResult:
    """Charge ``cost × quantity`` credits for an AI action, at once (docs/rules/credits.md).

    Refuses guests and visitors, unknown actions, and a charge above the balance
    (nothing is taken then); takes the soonest-expiring grants first. A replay with
    the same key returns the first result; a different request with it is refused.
    Atomic: one transaction (see :mod:`credits.ledger` for how it stays short).
    """
    key = _check_request(workspace, actor, quantity, idempotency_key)
    now = now or timezone.now()
    charged = ledger.charge(
        ledger.ChargeRequest(
            EntryKind.CONSUME, workspace.pk, action, quantity, actor.user_id, key, now, workspace.billing_zone
        )
    )
    if not charged.replayed:
        _notify(workspace, charged.state, charged.allowance_used, now)
        metrics.CREDITS_CONSUMED.inc(charged.amount)
    return ConsumeResult(
        entry_id=charged.entry_id, consumed=charged.amount, balance=charged.balance, replayed=charged.replayed
    )


def credits_reserve(
    *,
    workspace: Workspace,
    actor: Membership,
    action: str,
    quantity: int = 1,
    idempotency_key: str,
    now: datetime | None = None,
    hold_for: timedelta = RESERVATION_TTL,
) -> ReserveResult:
    """Hold ``cost × quantity`` credits before an AI call: a failed action costs nothing
    (docs/rules/credits.md#reserve-capture-release).

    Capture the reservation when the call succeeds, release it when it fails; an
    unclaimed one is released by the sweep after ``hold_for``. Same refusals and
    idempotency as :func:`credits_consume`.
    """
    key = _check_request(workspace, actor, quantity, idempotency_key)
    now = now or timezone.now()
    charged = ledger.charge(
        ledger.ChargeRequest(
            EntryKind.RESERVE,
            workspace.pk,
            action,
            quantity,
            actor.user_id,
            key,
            now,
            workspace.billing_zone,
            hold_for,
        )
    )
    assert charged.reservation_id is not None
    if charged.replayed:
        reservation = Reservation.objects.get(pk=charged.reservation_id, workspace=workspace)
    else:
        assert charged.state.action_id is not None
        reservation = Reservation(
            id=charged.reservation_id,
            workspace=workspace,
            action_id=charged.state.action_id,
            quantity=quantity,
            amount=charged.amount,
            status=ReservationStatus.HELD,
            actor_id=actor.user_id,
            created_at=now,
            expires_at=now + hold_for,
        )
    return ReserveResult(reservation=reservation, balance=charged.balance, replayed=charged.replayed)


# --- capture, release ---------------------------------------------------------------------------------


def reservation_capture(
    *, workspace: Workspace, reservation_id: uuid.UUID, now: datetime | None = None
) -> SettleResult:
    """Make a held reservation final: the AI call succeeded (idempotent once captured)."""
    now = now or timezone.now()
    with transaction.atomic(), sql.hot_cursor() as cursor:
        state, status, amount = ledger.lock_reservation(cursor, workspace, reservation_id, now)
        if status == ReservationStatus.CAPTURED:
            return SettleResult(reservation_id, status, amount, state.balance, None)
        if status != ReservationStatus.HELD:
            raise errors.ReservationNotHeld()
        cursor.execute(
            sql.CAPTURE,
            {
                "ws": workspace.pk,
                "rid": reservation_id,
                "now": now,
                "today": day_of(now, workspace.billing_zone),
            },
            prepare=sql.prepare(),
        )
        entry_id, amount, balance = cursor.fetchone()
    _notify(workspace, state, state.allowance_used, now)
    return SettleResult(reservation_id, ReservationStatus.CAPTURED, amount, balance, entry_id)


@transaction.atomic
def reservation_release(
    *, workspace: Workspace, reservation_id: uuid.UUID, now: datetime | None = None, expired: bool = False
) -> SettleResult:
    """Give held credits back: the AI call failed, so it costs nothing (idempotent once released).

    Credits held from an allowance that has since expired (a reset in between) are
    not revived: they would have expired anyway.
    """
    now = now or timezone.now()
    target = ReservationStatus.EXPIRED if expired else ReservationStatus.RELEASED
    with sql.hot_cursor() as cursor:
        state, status, amount = ledger.lock_reservation(cursor, workspace, reservation_id, now)
        if status in (ReservationStatus.RELEASED, ReservationStatus.EXPIRED):
            return SettleResult(reservation_id, status, amount, state.balance, None)
        if status != ReservationStatus.HELD:
            raise errors.ReservationNotHeld()
        cursor.execute(
            sql.RELEASE,
            {
                "ws": workspace.pk,
                "rid": reservation_id,
                "now": now,
                "status": str(target),
                "note": str(target),
            },
            prepare=sql.prepare(),
        )
        entry_id, returned, balance = cursor.fetchone()
    return SettleResult(reservation_id, target, amount, balance, entry_id, returned)


def reservations_expire(*, now: datetime, batch_size: int = 500) -> int:
    """Release every held reservation past its expiry: unclaimed holds are released
    (docs/rules/credits.md#reserve-capture-release)."""
    released = 0
    due = (
        Reservation.objects.filter(status=ReservationStatus.HELD, expires_at__lte=now)
        .select_related("workspace")
        .order_by("expires_at")
    )
    while True:
        batch = list(due[:batch_size])
        for reservation in batch:
            result = reservation_release(
                workspace=reservation.workspace, reservation_id=reservation.pk, now=now, expired=True
            )
            released += result.entry_id is not None
        if len(batch) < batch_size:
            return released


# Grants and the allowance live in :mod:`credits.grants`; their services are offered here too.
from credits.grants import (  # noqa: E402
    allowance_ensure_current,
    allowance_period_follow,
    allowance_reset_for_plan_change,
    credits_adjust,
    credits_grant_free,
    credits_grant_purchased,
    credits_hold_purchased,
    credits_release_hold,
    credits_revoke_purchased,
)

__all__ = [
    "ConsumeResult",
    "ReserveResult",
    "SettleResult",
    "allowance_ensure_current",
    "allowance_period_follow",
    "allowance_reset_for_plan_change",
    "credits_adjust",
    "credits_consume",
    "credits_grant_free",
    "credits_grant_purchased",
    "credits_hold_purchased",
    "credits_release_hold",
    "credits_reserve",
    "credits_revoke_purchased",
    "reservation_capture",
    "reservation_release",
    "reservations_expire",
]
