"""Reads of the credit ledger, always scoped by workspace, in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Exists, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from credits import sql
from credits.models import (
    ALLOWANCE_BUCKETS,
    ActionType,
    ApiKey,
    CreditBalance,
    CreditGrant,
    DailyUsage,
    GrantBucket,
    LedgerEntry,
    Reservation,
    ReservationStatus,
)
from domain.calendar import day_of
from domain.credit_periods import period_over
from domain.money import round_half_up
from subscriptions.models import Plan, Subscription, SubscriptionStatus
from workspaces.models import Membership, Workspace

USAGE_DAYS = 30


@dataclass(frozen=True)
class CreditSummary:
    """What a workspace has, for the balance card and the API
    (docs/rules/credits.md#balance-display)."""

    balance: int
    buckets: dict[str, int]
    held: int
    allowance: int
    allowance_remaining: int
    period_start: date | None
    period_end: date | None
    show_balance: bool
    plan_name: str = ""

    @property
    def allowance_used(self) -> int:
        return max(self.allowance - self.allowance_remaining, 0)

    @property
    def remaining_basis_points(self) -> int:
        """Remaining share of the allowance in hundredths of a percent (8061 = 80.61 %)."""
        if self.allowance <= 0:
            return 0
        return round_half_up(self.allowance_remaining * 10_000, self.allowance)

    @property
    def remaining_percent(self) -> str:
        """``"80.61"``: the remaining share of the allowance, two decimals, half up."""
        bp = self.remaining_basis_points
        return f"{bp // 100}.{bp % 100:02d}"


@dataclass(frozen=True)
class UsagePoint:
    day: date
    credits: int


def _plan_of(workspace: Workspace) -> Plan | None:
    """The plan in force: the subscription's unless it expired, else Free (one query)."""
    subscribed = (
        Subscription.objects.filter(workspace=workspace)
        .exclude(status=SubscriptionStatus.EXPIRED)
        .values("plan_id")[:1]
    )
    return (
        Plan.objects.filter(Q(pk=Subquery(subscribed)) | (Q(is_free=True) & ~Exists(subscribed)))
        .order_by("-rank")
        .first()
    )


#: Spendable credits per bucket (:func:`credits.sql.spendable`).
_SPENDABLE_BY_BUCKET = f"""
SELECT g.bucket, SUM(g.remaining) FROM credits_creditgrant g
WHERE g.workspace_id = %(ws)s AND {sql.spendable("g")}
GROUP BY g.bucket
"""


def credit_summary(workspace: Workspace, *, now: datetime | None = None) -> CreditSummary:
    """Balance (total and per bucket), the period's allowance, what is held, the period.

    Counts only spendable grants (:func:`credits.sql.spendable`: live and not past their
    end), so an allowance awaiting the sweep is not shown as spendable. Four queries
    whatever the data.
    """
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_SPENDABLE_BY_BUCKET, {"ws": workspace.pk, "now": now})
        per_bucket = {bucket: int(total) for bucket, total in cursor.fetchall()}
    buckets = {bucket.value: per_bucket.get(bucket.value, 0) for bucket in GrantBucket}
    held = (
        Reservation.objects.filter(workspace=workspace, status=ReservationStatus.HELD).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )
    row = CreditBalance.objects.filter(workspace=workspace).first()
    over = row is None or period_over(row.period_end, day_of(now, workspace.billing_zone))
    plan = _plan_of(workspace)
    return CreditSummary(
        balance=sum(buckets.values()),
        buckets=buckets,
        held=int(held),
        allowance=0 if over or row is None else row.allowance_total,
        allowance_remaining=sum(buckets[b] for b in ALLOWANCE_BUCKETS),
        period_start=None if over or row is None else row.period_start,
        period_end=None if over or row is None else row.period_end,
        show_balance=bool(plan and plan.show_credit_balance),
        plan_name=plan.name if plan else "",
    )


def usage_series(
    workspace: Workspace, *, today: date | None = None, days: int = USAGE_DAYS
) -> list[UsagePoint]:
    """Credits used per day over the last ``days`` days up to ``today`` (by default today in
    the workspace's billing time zone, the zone usage days are counted in; zeros filled),
    one query."""
    today = today or day_of(timezone.now(), workspace.billing_zone)
    first = today - timedelta(days=days - 1)
    used = dict(
        DailyUsage.objects.filter(workspace=workspace, day__gte=first, day__lte=today).values_list(
            "day", "credits_used"
        )
    )
    return [UsagePoint(day, int(used.get(day, 0))) for day in (first + timedelta(n) for n in range(days))]


def purchase_history(workspace: Workspace) -> QuerySet[CreditGrant]:
    """Purchased and free grants, newest first (amount paid 0 for free ones)."""
    return CreditGrant.objects.filter(
        workspace=workspace, bucket__in=(GrantBucket.PURCHASED, GrantBucket.FREE)
    ).order_by("-created_at", "-id")


def ledger_sum(workspace: Workspace) -> int:
    """The balance by definition: the sum of the ledger."""
    return int(LedgerEntry.objects.filter(workspace=workspace).aggregate(total=Sum("amount"))["total"] or 0)


def action_catalog() -> QuerySet[ActionType]:
    return ActionType.objects.filter(is_active=True).order_by("cost", "code")


def api_keys_of(workspace: Workspace) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.filter(workspace=workspace).select_related("created_by").order_by("-created_at", "-id")
    )


_ACTING_MEMBER = """
SELECT m.id, m.workspace_id, m.user_id, m.role
FROM workspaces_membership m JOIN workspaces_user u ON u.id = m.user_id
WHERE m.workspace_id = %(ws)s AND u.email = %(email)s
"""


def acting_member(workspace: Workspace, email: str) -> Membership | None:
    """The member of ``workspace`` with this email (the metering API's ``user``), one
    prepared query; emails are stored lower-case."""
    with sql.hot_cursor() as cursor:
        cursor.execute(
            _ACTING_MEMBER, {"ws": workspace.pk, "email": email.strip().lower()}, prepare=sql.prepare()
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return Membership.from_db("default", ["id", "workspace_id", "user_id", "role"], row)
