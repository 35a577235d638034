"""Monthly allowances: how many credits, for which period, and the set-based reset.

docs/rules/credits.md#allowance: the allowance of a period is the plan's flat credits
+ credits per seat × licences *at reset time* (docs/rules/credits.md#licences: the seats
paid for, each once, counted by :func:`teams.selectors.licences_sql`) + the active
add-ons' monthly credits; it expires unused at the period's end (no roll-over). docs/rules/credits.md#reset:
``calendar`` plans reset on the 1st of each month, ``renewal`` plans on the
subscription's renewal day, clamped to the month's last day. A workspace without a
subscription, or whose subscription expired, is on Free.

The amount is computed in one place, SQL (:data:`credits.sql.ALLOWANCE_OF`, part of
:data:`credits.sql.RESET_LOCKED`): the reset grants it and :func:`allowance_of` reads
it for one workspace.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction

from credits import sql
from domain.calendar import day_of
from domain.credit_periods import CreditReset, credit_period
from workspaces import permissions
from workspaces.models import Workspace

#: The licensed roles (:data:`workspaces.permissions.LICENSED_ROLES`) as the SQL array the
#: allowance statements take.
LICENSED_ROLES: list[str] = list(permissions.LICENSED_ROLES)

#: Workspaces reset per transaction by the sweep: bounds lock time and memory.
RESET_BATCH_SIZE = 10_000

# Session-level advisory lock: one reset sweep at a time (keeps batch locking deadlock-free).
_SWEEP_LOCK_KEY = 0x5EA7C4ED


@dataclass(frozen=True)
class Allowance:
    plan_id: int | None
    #: The plan in force is the free plan (subscribed to Free, no subscription, or it expired).
    free: bool
    reset: CreditReset
    renewal_day: int
    seats: int
    plan_credits: int
    addon_credits: int

    @property
    def total(self) -> int:
        return self.plan_credits + self.addon_credits

    def period(self, at: date) -> tuple[date, date]:
        return credit_period(self.reset, self.renewal_day, at)


#: Rules per period table: index 0 calendar, 1-31 renewal on that day.
_RULES = 32
#: A billing day is the UTC day, the one before or the one after (zones run from UTC-12
#: to UTC+14): the period tables of those three days cover every workspace.
_TABLE_DAYS = 3


def _period_table(today: date) -> dict[str, list[Any]]:
    """The period containing ``today`` per rule: index 0 calendar, 1-31 renewal on that day."""
    periods = [credit_period(CreditReset.CALENDAR, 1, today)]
    periods += [credit_period(CreditReset.RENEWAL, day, today) for day in range(1, _RULES)]
    return {"p_start": [start for start, _ in periods], "p_end": [end for _, end in periods]}


def _period_tables(now: datetime) -> dict[str, Any]:
    """The period tables of every billing day ``now`` can fall on, one after the other
    from ``first_day``: the statements pick a workspace's by its billing day (``now``'s
    date in its billing time zone, in SQL) and its rule, at index
    ``(day - first_day) * 32 + rule + 1``; its allowance expires at midnight of the
    period's end in that zone (docs/rules/billing-calendar.md#credit-periods)."""
    first_day = day_of(now, UTC) - timedelta(days=1)
    tables = [_period_table(first_day + timedelta(days=n)) for n in range(_TABLE_DAYS)]
    return {
        "first_day": first_day,
        "p_start": [day for table in tables for day in table["p_start"]],
        "p_end": [day for table in tables for day in table["p_end"]],
    }


def _params(now: datetime) -> dict[str, Any]:
    """The parameters every allowance statement takes, for a period starting at ``now``."""
    return {"now": now, "licensed": LICENSED_ROLES, **_period_tables(now)}


def allowance_of(workspace: Workspace) -> Allowance:
    """The allowance the workspace would get if its credit period started now: the very
    computation the reset runs (:data:`credits.sql.ALLOWANCE_OF`), for one workspace."""
    with connection.cursor() as cursor:
        cursor.execute(sql.ALLOWANCE_OF, {"ws": workspace.pk, "licensed": LICENSED_ROLES})
        plan_id, free, rule, seats, plan_credits, addon_credits = cursor.fetchone()
    return Allowance(
        plan_id=plan_id,
        free=bool(free),
        reset=CreditReset.RENEWAL if rule else CreditReset.CALENDAR,
        renewal_day=int(rule),
        seats=int(seats),
        plan_credits=int(plan_credits),
        addon_credits=int(addon_credits),
    )


def reset_locked(cursor: Any, workspace_ids: Sequence[uuid.UUID], now: datetime) -> int:
    """Expire the allowances of these workspaces and grant the current period's.

    The caller holds the lock on their balance rows. Returns the number reset.
    """
    if not workspace_ids:
        return 0
    cursor.execute(sql.RESET_LOCKED, {"ids": list(workspace_ids), **_params(now)})
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def create_missing_balances(*, now: datetime) -> int:
    """Give every workspace lacking one its balance row (due for its first allowance)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.CREATE_MISSING_BALANCES, {"now": now})
        return int(cursor.rowcount)


def allowances_reset(*, now: datetime, batch_size: int = RESET_BATCH_SIZE) -> int:
    """Reset every workspace whose credit period has ended, set-based, in batches.

    Each batch is one transaction: lock the due balance rows, then one statement
    expires the unused allowances (ledger entries) and grants the new ones. Safe to
    run twice or late: a workspace is due only while its period is over, and the new
    period is the one containing ``now``. Returns the number of workspaces reset.
    """
    # Due when the period's end is the billing day in the workspace's zone or earlier;
    # no zone is ahead of UTC by more than a day.
    due = {"now": now, "latest": day_of(now, UTC) + timedelta(days=1)}
    total = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_SWEEP_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return 0
        try:
            while True:
                with transaction.atomic():
                    cursor.execute(sql.LOCK_DUE, {**due, "batch": batch_size})
                    ids = [row[0] for row in cursor.fetchall()]
                    total += reset_locked(cursor, ids, now)
                if len(ids) < batch_size:
                    return total
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_SWEEP_LOCK_KEY])
