"""The ledger's locking and charging machinery, under :mod:`credits.services`.

Every write on a workspace's credits locks its balance row first; that lock is what
makes concurrent consumers queue instead of overdrawing. A charge (consume or
reserve) is one self-gating statement (:data:`credits.sql.CONSUME`): outside an
enclosing transaction it is sent in a single round trip with BEGIN, the lock and
COMMIT (psycopg pipeline mode), so the row is never locked while the client thinks.
Anything unusual — a first use, a credit period to roll over, a race on a key — is
decided on the slower path, which locks, looks, then charges.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, TypeVar

import psycopg
from django.db import IntegrityError, connection, transaction

from credits import allowances, errors, sql
from credits.models import EntryKind, LedgerEntry
from domain.calendar import day_of
from domain.credit_periods import period_over
from workspaces.models import User, Workspace

T = TypeVar("T")


@dataclass(frozen=True)
class State:
    """The locked balance row, plus the action and the key's earlier use when asked."""

    balance: int
    period_start: date | None
    period_end: date | None
    allowance_total: int
    allowance_used: int
    notified_percent: int
    action_id: int | None = None
    action_cost: int | None = None
    entry: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Charged:
    """What a charge did, or what the first request with this key did (``replayed``)."""

    kind: str
    entry_id: int
    amount: int
    balance: int
    reservation_id: uuid.UUID | None
    replayed: bool
    state: State
    allowance_used: int


@dataclass(frozen=True)
class ChargeRequest:
    kind: str
    workspace_id: uuid.UUID
    action: str
    quantity: int
    actor_id: int
    key: str
    now: datetime
    #: The workspace's billing time zone: the credit period's days are read in it.
    zone: tzinfo
    hold_for: timedelta | None = None

    @property
    def request_hash(self) -> str:
        text = f"{self.kind}\n{self.action}\n{self.quantity}\n{self.actor_id}"
        return hashlib.sha256(text.encode()).hexdigest()

    def params(self, reservation_id: uuid.UUID | None) -> dict[str, Any]:
        return {
            "ws": self.workspace_id,
            "action": self.action,
            "quantity": self.quantity,
            "actor_id": self.actor_id,
            "key": self.key,
            "hash": self.request_hash,
            "now": self.now,
            "today": day_of(self.now, self.zone),
            "rid": reservation_id,
            "expires_at": self.now + self.hold_for if self.hold_for else None,
        }

    @property
    def statement(self) -> str:
        return sql.CONSUME if self.kind == EntryKind.CONSUME else sql.RESERVE


# --- locking -------------------------------------------------------------------------------------


def _state(row: tuple[Any, ...], *, with_action: bool) -> State:
    state = State(
        balance=row[0],
        period_start=row[1],
        period_end=row[2],
        allowance_total=row[3],
        allowance_used=row[4],
        notified_percent=row[5],
    )
    if not with_action:
        return state
    return replace(state, action_id=row[6], action_cost=row[7], entry=row[8:] if row[8] is not None else None)


def _period_over(state: State, now: datetime, zone: tzinfo) -> bool:
    return period_over(state.period_end, day_of(now, zone))


def lock(
    cursor: Any,
    workspace_id: uuid.UUID,
    now: datetime,
    *,
    zone: tzinfo,
    action: str = "",
    key: str | None = None,
    roll_over: bool = True,
) -> State:
    """Lock the balance row; create it, or roll the credit period over, first if needed.

    The allowance is granted lazily here too, so a charge right after a period
    boundary uses the new allowance even if the sweep has not run yet.
    """
    params = {"ws": workspace_id, "action": action, "key": key}
    for _attempt in range(3):
        cursor.execute(sql.LOCK_FOR_ACTION if action else sql.LOCK_BALANCE, params, prepare=sql.prepare())
        row = cursor.fetchone()
        if row is None:
            cursor.execute(sql.CREATE_BALANCE, {"ws": workspace_id, "now": now})
            if cursor.rowcount == 0 and not _workspace_exists(cursor, workspace_id):
                raise errors.UnknownWorkspace()
            continue
        state = _state(row, with_action=bool(action))
        if roll_over and _period_over(state, now, zone):
            allowances.reset_locked(cursor, [workspace_id], now)
            continue
        return state
    raise RuntimeError("the credit balance row could not be locked")  # pragma: no cover


def _workspace_exists(cursor: Any, workspace_id: uuid.UUID) -> bool:
    cursor.execute("SELECT 1 FROM workspaces_workspace WHERE id = %s", [workspace_id])
    return cursor.fetchone() is not None


def lock_balance(workspace: Workspace, now: datetime) -> State:
    """Lock the workspace's balance row for the current transaction (allowance ensured)."""
    with sql.hot_cursor() as cursor:
        return lock(cursor, workspace.pk, now, zone=workspace.billing_zone)


def append_entry(
    *,
    workspace: Workspace,
    state: State,
    amount: int,
    kind: str,
    now: datetime,
    grant: Any = None,
    actor: User | None = None,
    note: str = "",
) -> LedgerEntry:
    """Move the cached balance and append the matching entry (balance row locked)."""
    balance = state.balance + amount
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE credits_creditbalance SET balance = %s, updated_at = %s WHERE workspace_id = %s",
            [balance, now, workspace.pk],
        )
    return LedgerEntry.objects.create(
        workspace=workspace,
        kind=kind,
        amount=amount,
        balance_after=balance,
        grant=grant,
        actor=actor,
        note=note[:255],
        created_at=now,
    )


# --- charging ------------------------------------------------------------------------------------


def _replay(request: ChargeRequest, state: State) -> Charged:
    assert state.entry is not None
    entry_id, kind, amount, balance_after, first_hash, reservation_id = state.entry
    if kind != request.kind or first_hash != request.request_hash:
        raise errors.IdempotencyKeyReused()
    return Charged(kind, entry_id, -amount, balance_after, reservation_id, True, state, state.allowance_used)


def _refusal(request: ChargeRequest, state: State) -> None:
    """Raise why the gate refused, as far as the locked state tells."""
    if state.action_id is None or state.action_cost is None:
        raise errors.UnknownAction()
    cost = state.action_cost * request.quantity
    if cost > state.balance:
        raise errors.InsufficientCredits(balance=state.balance, required=cost)


def _charged(request: ChargeRequest, state: State, row: tuple[Any, ...]) -> Charged:
    entry_id, taken, balance, allowance_used, _total, reservation_id = row
    return Charged(request.kind, entry_id, taken, balance, reservation_id, False, state, allowance_used)


def charge_pipelined(request: ChargeRequest) -> Charged | None:
    """BEGIN, lock, charge, COMMIT in one round trip; None when the slow path must decide."""
    reservation_id = uuid.uuid4() if request.kind == EntryKind.RESERVE else None
    params = request.params(reservation_id)
    raw = sql.raw_connection()
    with connection.wrap_database_errors:
        lock_cursor, charge_cursor = psycopg.Cursor(raw), psycopg.Cursor(raw)
        try:
            # Queued, then sent with one Sync: BEGIN, lock, charge, COMMIT. (psycopg's own
            # transaction() would wait for the results before sending the COMMIT.)
            with raw.pipeline():
                raw.execute("BEGIN")
                lock_cursor.execute(sql.LOCK_FOR_ACTION, params, prepare=sql.prepare())
                charge_cursor.execute(request.statement, params, prepare=sql.prepare())
                raw.execute("COMMIT")
        except psycopg.Error:
            if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                raw.rollback()
            raise
        lock_row, charge_row = lock_cursor.fetchone(), charge_cursor.fetchone()
    if lock_row is None:
        return None  # no balance row yet: created on the slow path
    state = _state(lock_row, with_action=True)
    if charge_row is not None:
        return _charged(request, state, charge_row)
    if _period_over(state, request.now, request.zone):
        return None
    if state.entry is not None:
        return _replay(request, state)
    _refusal(request, state)
    return None  # the key was used while this request waited: the slow path replays it


@transaction.atomic
def charge_locked(request: ChargeRequest) -> Charged:
    """Lock, look at the state, then charge: the path inside an enclosing transaction."""
    reservation_id = uuid.uuid4() if request.kind == EntryKind.RESERVE else None
    with sql.hot_cursor() as cursor:
        state = lock(
            cursor,
            request.workspace_id,
            request.now,
            zone=request.zone,
            action=request.action,
            key=request.key,
        )
        if state.entry is not None:
            return _replay(request, state)
        _refusal(request, state)
        cursor.execute(request.statement, request.params(reservation_id), prepare=sql.prepare())
        row = cursor.fetchone()
    if row is None:
        # The cached balance counted credits no live grant holds any more: refuse.
        raise errors.InsufficientCredits(
            balance=state.balance, required=(state.action_cost or 0) * request.quantity
        )
    return _charged(request, state, row)


def _is_key_collision(exc: IntegrityError) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == "credit_ledger_idempotency_key"


def charge(request: ChargeRequest) -> Charged:
    """Charge once per key, whatever the concurrency."""
    if connection.get_autocommit() and not connection.in_atomic_block:
        charged = _retrying(charge_pipelined, request)
        if charged is not None:
            return charged
    return _retrying(charge_locked, request)


def _retrying(fn: Callable[[ChargeRequest], T], request: ChargeRequest) -> T:
    # Two requests with the same new key may both pass the replay check when the
    # second waited for the first one's lock; the unique index refuses the second
    # insert, and running again finds the first result and replays it.
    try:
        return fn(request)
    except IntegrityError as exc:
        if not _is_key_collision(exc):
            raise
        return fn(request)


def lock_reservation(
    cursor: Any, workspace: Workspace, reservation_id: uuid.UUID, now: datetime
) -> tuple[State, str, int]:
    """Lock the balance row, then read the reservation's current status under the lock."""
    state = lock(cursor, workspace.pk, now, zone=workspace.billing_zone)
    cursor.execute(
        "SELECT status, amount FROM credits_reservation WHERE id = %s AND workspace_id = %s",
        [reservation_id, workspace.pk],
    )
    row = cursor.fetchone()
    if row is None:
        raise errors.ReservationNotFound()
    return state, row[0], row[1]
