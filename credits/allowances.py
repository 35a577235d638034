"""Monthly allowances: how many credits, for which period, and the set-based reset.

SPEC.md "AI credits" and seed 000: the allowance of a period is the plan's flat
credits + credits per seat × licensed seats *at reset time* + the active add-ons'
monthly credits; it expires unused at the period's end (no roll-over). Free and
Enterprise (``calendar``) reset on the 1st of each month, Starter and Business
(``renewal``) on the subscription's renewal day, clamped to the month's last day.
A workspace without a subscription, or whose subscription expired, is on Free.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection, transaction

from credits import sql
from domain.credit_periods import CreditReset, credit_period
from subscriptions.models import Plan, Subscription, SubscriptionStatus
from workspaces.models import Membership, Role, Workspace
from workspaces.permissions import holds_licence

#: Roles holding a licence (seats), from the one permission policy.
LICENSED_ROLES = [role for role in Role.values if holds_licence(role)]

#: Workspaces reset per transaction by the sweep: bounds lock time and memory.
RESET_BATCH_SIZE = 10_000

# Session-level advisory lock: one reset sweep at a time (keeps batch locking deadlock-free).
_SWEEP_LOCK_KEY = 0x5EA7C4ED


@dataclass(frozen=True)
class Allowance:
    plan: Plan | None
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


def allowance_of(workspace: Workspace) -> Allowance:
    """The allowance the workspace would get if its period started now (Python mirror
    of :data:`credits.sql.RESET_LOCKED`, for display and tests)."""
    subscription = (
        Subscription.objects.select_related("plan")
        .filter(workspace=workspace)
        .exclude(status=SubscriptionStatus.EXPIRED)
        .first()
    )
    plan = subscription.plan if subscription else Plan.objects.filter(is_free=True).first()
    seats = Membership.objects.filter(workspace=workspace, role__in=LICENSED_ROLES).count()
    addon_credits = 0
    if subscription is not None:
        addon_credits = sum(
            item.quantity * item.addon.monthly_credits
            for item in subscription.addons.select_related("addon").filter(addon__is_active=True)
        )
    renewal = plan is not None and plan.credit_reset == CreditReset.RENEWAL and subscription is not None
    return Allowance(
        plan=plan,
        reset=CreditReset.RENEWAL if renewal else CreditReset.CALENDAR,
        renewal_day=subscription.billing_anchor_day if renewal and subscription else 0,
        seats=seats,
        plan_credits=(plan.credits_flat + plan.credits_per_seat * seats) if plan else 0,
        addon_credits=addon_credits,
    )


def _period_table(today: date) -> dict[str, list[date]]:
    """The period containing ``today`` per rule: index 0 calendar, 1-31 renewal on that day."""
    periods = [credit_period(CreditReset.CALENDAR, 1, today)]
    periods += [credit_period(CreditReset.RENEWAL, day, today) for day in range(1, 32)]
    return {"p_start": [start for start, _ in periods], "p_end": [end for _, end in periods]}


def reset_locked(cursor: Any, workspace_ids: Sequence[uuid.UUID], now: datetime) -> int:
    """Expire the allowances of these workspaces and grant the current period's.

    The caller holds the lock on their balance rows. Returns the number reset.
    """
    if not workspace_ids:
        return 0
    today = now.astimezone(UTC).date()
    cursor.execute(
        sql.RESET_LOCKED,
        {"ids": list(workspace_ids), "now": now, "licensed": LICENSED_ROLES, **_period_table(today)},
    )
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
    today = now.astimezone(UTC).date()
    total = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_SWEEP_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return 0
        try:
            while True:
                with transaction.atomic():
                    cursor.execute(sql.LOCK_DUE, {"today": today, "batch": batch_size})
                    ids = [row[0] for row in cursor.fetchall()]
                    total += reset_locked(cursor, ids, now)
                if len(ids) < batch_size:
                    return total
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_SWEEP_LOCK_KEY])
