"""The operators' dashboard (docs/rules/operators.md#dashboard): figures over the whole base,
each computed by one SQL query, so the page runs the same few queries whether there are
ten workspaces or a hundred thousand.

MRR is the monthly run rate of what paying subscriptions (active, past due, or cancelled
and running until their period ends; not on the free plan) bill: the plan's base and bought-in-advance seats, each paid seat, each add-on,
an annual amount counted as a twelfth and a weekly one as 52/12. The 12-month history is
read from the invoices: at the first instant of each month, every plan, seat and add-on
line whose period covers it counts its amount over its period's length, as a monthly rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from credits.models import EntryKind, LedgerEntry
from gateways.stripe.models import EventState, StripeEvent
from invoices.models import Invoice, InvoiceLine, InvoiceStatus, LineKind
from subscriptions.models import AddOn, Plan, Price, Subscription, SubscriptionAddOn, SubscriptionStatus
from teams.models import Seat, SeatStatus
from workspaces.models import Workspace

CHURN_DAYS = 30
CREDIT_DAYS = 30
HISTORY_MONTHS = 12
RECENT = 10

_T = {
    "subscription": Subscription._meta.db_table,
    "plan": Plan._meta.db_table,
    "price": Price._meta.db_table,
    "seat": Seat._meta.db_table,
    "sub_addon": SubscriptionAddOn._meta.db_table,
    "addon": AddOn._meta.db_table,
    "invoice": Invoice._meta.db_table,
    "line": InvoiceLine._meta.db_table,
    "ledger": LedgerEntry._meta.db_table,
    "event": StripeEvent._meta.db_table,
    "workspace": Workspace._meta.db_table,
}

#: A period's amount as a monthly rate.
_MONTHLY = "(CASE {col} WHEN 'year' THEN 1.0 / 12 WHEN 'week' THEN 52.0 / 12 ELSE 1 END)"

MRR_BY_PLAN = f"""
SELECT pl.code, pl.name, pr.currency, COUNT(*) AS subscriptions,
       ROUND(SUM((pr.base_amount + pr.seat_amount * s.extra_seats) * {_MONTHLY.format(col="pr.interval")}
                 + COALESCE(seats.monthly, 0) + COALESCE(addons.monthly, 0)))::bigint AS mrr_cents
FROM {_T["subscription"]} s
JOIN {_T["plan"]} pl ON pl.id = s.plan_id
JOIN {_T["price"]} pr ON pr.id = s.price_id
LEFT JOIN (
    SELECT workspace_id, SUM(price_cents * {_MONTHLY.format(col="interval")}) AS monthly
    FROM {_T["seat"]} WHERE status = %(seat_active)s GROUP BY workspace_id
) seats ON seats.workspace_id = s.workspace_id
LEFT JOIN (
    SELECT sa.subscription_id, SUM(sa.quantity * a.monthly_amount) AS monthly
    FROM {_T["sub_addon"]} sa JOIN {_T["addon"]} a ON a.id = sa.addon_id GROUP BY sa.subscription_id
) addons ON addons.subscription_id = s.id
WHERE s.status = ANY(%(paying)s) AND NOT pl.is_free
GROUP BY pl.code, pl.name, pl.rank, pr.currency
ORDER BY pl.rank, pr.currency
"""

STATUS_COUNTS = f"""
SELECT s.status, pl.is_free, COUNT(*) FROM {_T["subscription"]} s JOIN {_T["plan"]} pl ON pl.id = s.plan_id
GROUP BY s.status, pl.is_free
"""

MRR_HISTORY = f"""
SELECT m.month, l.currency, ROUND(SUM(l.amount_cents / l.months))::bigint
FROM generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '1 month') AS m(month)
JOIN (
    SELECT line.amount_cents, line.period_start, line.period_end, i.currency,
           -- The period's length in months, counted on the workspace's billing calendar.
           (SELECT EXTRACT(YEAR FROM a) * 12 + EXTRACT(MONTH FROM a)
                   + (EXTRACT(DAY FROM a) + EXTRACT(EPOCH FROM a - date_trunc('day', a)) / 86400) / 30.436875
            FROM age(line.period_end AT TIME ZONE w.billing_time_zone,
                     line.period_start AT TIME ZONE w.billing_time_zone) AS a) AS months
    FROM {_T["line"]} line JOIN {_T["invoice"]} i ON i.id = line.invoice_id
    JOIN {_T["workspace"]} w ON w.id = i.workspace_id
    WHERE line.kind = ANY(%(kinds)s) AND i.status <> ALL(%(not_issued)s)
      AND line.period_end > %(first)s AND line.period_start <= %(last)s
      AND line.period_end > line.period_start
) l ON l.period_start <= m.month AND m.month < l.period_end
GROUP BY m.month, l.currency
ORDER BY m.month, l.currency
"""

CHURN = f"""
SELECT s.cancel_reason, COUNT(*) FROM {_T["subscription"]} s
WHERE s.canceled_at >= %(since)s
GROUP BY s.cancel_reason ORDER BY COUNT(*) DESC, s.cancel_reason
"""

CREDITS_PER_DAY = f"""
SELECT (created_at AT TIME ZONE %(zone)s)::date AS day, -SUM(amount)::bigint
FROM {_T["ledger"]}
WHERE kind = ANY(%(spent)s) AND created_at >= %(since)s
GROUP BY day ORDER BY day
"""

FAILED_EVENTS = f"""
SELECT COUNT(*) OVER (), event_id, type, attempts, last_error, received_at
FROM {_T["event"]} WHERE state = %(failed)s ORDER BY received_at DESC LIMIT {RECENT}
"""

DUNNING = f"""
SELECT COUNT(*) OVER (), SUM(amount_due_cents) OVER (PARTITION BY currency), id, number, workspace_id, currency,
       amount_due_cents, attempt_count, past_due_since
FROM {_T["invoice"]}
WHERE status = ANY(%(payable)s) AND past_due_since IS NOT NULL
ORDER BY past_due_since, id LIMIT {RECENT}
"""


@dataclass(frozen=True)
class PlanMrr:
    code: str
    name: str
    currency: str
    subscriptions: int
    mrr_cents: int

    @property
    def arr_cents(self) -> int:
        return self.mrr_cents * 12


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    mrr_by_plan: list[PlanMrr]
    mrr_totals: dict[str, int]
    history: list[tuple[datetime, dict[str, int]]]
    counts: dict[str, int]
    churn: list[tuple[str, int]]
    churn_total: int
    churn_rate_bp: int
    credits_per_day: list[tuple[Any, int]]
    failed_events_count: int
    failed_events: list[dict[str, Any]]
    dunning_count: int
    dunning_totals: dict[str, int]
    dunning: list[dict[str, Any]]

    @property
    def arr_totals(self) -> dict[str, int]:
        return {currency: cents * 12 for currency, cents in self.mrr_totals.items()}


def _rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def month_starts(now: datetime, months: int = HISTORY_MONTHS) -> tuple[datetime, datetime]:
    """The first instants (UTC) of the oldest and the newest of the last ``months`` months."""
    last = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    year, month = divmod(last.year * 12 + last.month - 1 - (months - 1), 12)
    return last.replace(year=year, month=month + 1), last


QUERIES = ("mrr_by_plan", "status_counts", "history", "churn", "credits", "failed_events", "dunning")


def params(now: datetime, zone: str) -> dict[str, dict[str, Any]]:
    first, last = month_starts(now)
    return {
        "mrr_by_plan": {
            "seat_active": SeatStatus.ACTIVE.value,
            "paying": [
                SubscriptionStatus.ACTIVE.value,
                SubscriptionStatus.PAST_DUE.value,
                SubscriptionStatus.CANCELED.value,
            ],
        },
        "status_counts": {},
        "history": {
            "first": first,
            "last": last,
            "kinds": [LineKind.PLAN.value, LineKind.SEATS.value, LineKind.ADDON.value],
            "not_issued": [InvoiceStatus.DRAFT.value, InvoiceStatus.VOID.value],
        },
        "churn": {"since": now - timedelta(days=CHURN_DAYS)},
        "credits": {
            "zone": zone,
            "spent": [EntryKind.CONSUME.value, EntryKind.CAPTURE.value],
            "since": now - timedelta(days=CREDIT_DAYS),
        },
        "failed_events": {"failed": EventState.FAILED.value},
        "dunning": {"payable": [InvoiceStatus.OPEN.value, InvoiceStatus.FAILED.value]},
    }


SQL = {
    "mrr_by_plan": MRR_BY_PLAN,
    "status_counts": STATUS_COUNTS,
    "history": MRR_HISTORY,
    "churn": CHURN,
    "credits": CREDITS_PER_DAY,
    "failed_events": FAILED_EVENTS,
    "dunning": DUNNING,
}


def dashboard(*, now: datetime | None = None, zone: str = "UTC") -> Dashboard:
    """Every figure of the dashboard, in seven queries."""
    now = now or timezone.now()
    p = params(now, zone)
    plans = [PlanMrr(*row) for row in _rows(SQL["mrr_by_plan"], p["mrr_by_plan"])]
    totals: dict[str, int] = {}
    for plan in plans:
        totals[plan.currency] = totals.get(plan.currency, 0) + plan.mrr_cents
    counts = {"active": 0, "trialing": 0, "past_due": 0, "canceled": 0, "free": 0}
    for status, is_free, count in _rows(SQL["status_counts"], p["status_counts"]):
        if is_free and status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
            counts["free"] += count
        elif status in counts:
            counts[status] += count
    first, _last = month_starts(now)
    months = [first.replace(year=first.year + (first.month - 1 + i) // 12, month=(first.month - 1 + i) % 12 + 1)
              for i in range(HISTORY_MONTHS)]  # fmt: skip
    by_month: dict[datetime, dict[str, int]] = {month: {} for month in months}
    for month, currency, cents in _rows(SQL["history"], p["history"]):
        by_month.setdefault(month.astimezone(UTC), {})[currency] = int(cents)
    churn = [(reason or "", count) for reason, count in _rows(SQL["churn"], p["churn"])]
    churn_total = sum(count for _reason, count in churn)
    paying = counts["active"] + counts["past_due"] + counts["canceled"]
    failed = _rows(SQL["failed_events"], p["failed_events"])
    dunning = _rows(SQL["dunning"], p["dunning"])
    return Dashboard(
        now=now,
        mrr_by_plan=plans,
        mrr_totals=totals,
        history=sorted(by_month.items()),
        counts=counts,
        churn=churn,
        churn_total=churn_total,
        churn_rate_bp=round(churn_total * 10_000 / paying) if paying else 0,
        credits_per_day=[(day, int(spent)) for day, spent in _rows(SQL["credits"], p["credits"])],
        failed_events_count=failed[0][0] if failed else 0,
        failed_events=[
            dict(zip(("event_id", "type", "attempts", "last_error", "received_at"), row[1:], strict=True))
            for row in failed
        ],  # fmt: skip
        dunning_count=dunning[0][0] if dunning else 0,
        dunning_totals={row[5]: int(row[1]) for row in dunning},
        dunning=[
            dict(
                zip(
                    (
                        "currency_total_cents",
                        "id",
                        "number",
                        "workspace_id",
                        "currency",
                        "amount_due_cents",
                        "attempt_count",
                        "past_due_since",
                    ),
                    row[1:],
                    strict=True,
                )
            )
            for row in dunning
        ],  # fmt: skip
    )
