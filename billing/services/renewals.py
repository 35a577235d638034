"""The renewal sweep, set-based (docs/rules/lifecycle.md#renewal).

Renewing one subscription at a time costs a dozen queries each; the sweep renews
thousands at once instead, with the same rules and the same results:

1. lock the due subscription rows (``SKIP LOCKED``: a row held by a user's change is
   renewed by the next run) and re-check that they are still due;
2. read, in that same query, the paid seats co-termed with each subscription (the
   subscription bills ``extra_seats`` + its co-termed paid seats; a seat on another
   interval is billed by its own renewal, :mod:`billing.seat_sweeps`), then the add-ons of
   the whole batch (index lookups only), and build each renewal's lines with
   :mod:`subscriptions.pricing`, as :func:`~billing.services.lifecycle.apply_renew` does;
3. issue the invoices in one bulk call of the one issuing path
   (:func:`billing.services.settlement.invoices_issue`, which settles those paid at issue);
4. advance every period in one ``UPDATE … FROM unnest(…)`` and ``COPY`` the events.

Charging is not part of it: the sweep queues one charge task per invoice after commit.
Free and zero-priced subscriptions only move to their next period.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import psycopg
from django.db import connection, transaction

from audit.models import ActorKind, AuditEntry
from audit.models import Kind as AuditKind
from billing.services.settlement import invoices_issue
from billing.services.status_changes import renewal_source
from domain.calendar import day_of, midnight
from domain.periods import Interval, add_interval
from invoices.copying import copy_rows
from invoices.issuing import Buyer, InvoiceDraft
from invoices.models import (
    BillingReason,
)
from invoices.totals import DraftLine, Totals
from subscriptions import pricing
from subscriptions.models import (
    AddOn,
    EventKind,
    Plan,
    Price,
    Subscription,
    SubscriptionAddOn,
    SubscriptionEvent,
    SubscriptionStatus,
)
from teams.models import Seat, SeatStatus
from workspaces.models import Workspace
from workspaces.time_zones import zone_named

#: Subscriptions renewed per transaction: bounded locks and memory, whatever the backlog.
RENEWAL_BATCH_SIZE = 5_000


@dataclass
class RenewalRun:
    renewed: int = 0
    invoiced: int = 0
    #: Invoices left to charge (amount due > 0), for the per-invoice charge tasks.
    to_charge: list[int] = field(default_factory=list)


@dataclass
class _Due:
    """A due subscription, read as plain values (no model instances: thousands at a time)."""

    id: int
    workspace_id: Any
    plan: Plan
    price: Price
    period_end: datetime
    anchor_day: int
    extra_seats: int
    #: Active paid seats co-termed with the subscription (billed by this renewal).
    coterm_paid_seats: int
    workspace_name: str
    currency: str
    country: str
    vat_number: str
    billing_email: str
    #: The workspace's billing time zone: the new period's end is midnight there.
    zone: tzinfo
    start: datetime = field(init=False)
    end: datetime = field(init=False)
    lines: list[DraftLine] = field(default_factory=list)
    totals: Totals | None = None
    invoice_id: int | None = None


def _batched(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    iterator = iter(ids)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def due_subscription_ids(now: datetime) -> list[int]:
    return list(
        Subscription.objects.filter(
            status=SubscriptionStatus.ACTIVE, auto_renew=True, current_period_end__lte=now
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def renew_due_subscriptions(*, now: datetime, batch_size: int = RENEWAL_BATCH_SIZE) -> RenewalRun:
    """Renew every subscription due at ``now`` by one period; idempotent (a renewed
    subscription is no longer due) and safe late (run it again to catch up further)."""
    run = RenewalRun()
    for chunk in _batched(due_subscription_ids(now), batch_size):
        with transaction.atomic():
            renew_batch(chunk, now=now, run=run)
    return run


def _raw_cursor() -> psycopg.Cursor[Any]:
    """A server-side-binding cursor on Django's connection: large arrays travel in binary."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _lock_due(subscription_ids: list[int], now: datetime) -> list[_Due]:
    """Lock the still-due rows and read what pricing needs. Every lookup goes through an
    index (the co-termed paid seats per row, the workspaces by key), so a batch costs the
    same however many subscriptions and seats the database holds.

    A seat change locks the subscription row too (:func:`teams.services.common.subscription_locked`):
    a row a seat change holds is skipped here and renewed by the next run, so the seats
    counted are the seats the renewed period holds."""
    with _raw_cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.id, s.workspace_id, s.plan_id, s.price_id, s.current_period_end, s.billing_anchor_day,
                   s.extra_seats,
                   (SELECT count(*) FROM {Seat._meta.db_table} AS t
                     WHERE t.workspace_id = s.workspace_id AND t.status = %s AND t.coterm) AS coterm_paid_seats
              FROM {Subscription._meta.db_table} AS s
             WHERE s.id = ANY(%s) AND s.status = %s AND s.auto_renew AND s.current_period_end <= %s
             ORDER BY s.id
               FOR UPDATE OF s SKIP LOCKED
            """,
            [SeatStatus.ACTIVE.value, subscription_ids, SubscriptionStatus.ACTIVE.value, now],
        )
        rows = cursor.fetchall()
        cursor.execute(
            f"SELECT id, name, currency, country, vat_number, billing_email, billing_time_zone "
            f"FROM {Workspace._meta.db_table} "
            "WHERE id = ANY(%s)",
            [[row[1] for row in rows]],
        )
        workspaces = {row[0]: row[1:] for row in cursor.fetchall()}
    plans = Plan.objects.in_bulk({row[2] for row in rows})
    prices = Price.objects.in_bulk({row[3] for row in rows})
    return [
        _Due(
            id=row[0],
            workspace_id=row[1],
            plan=plans[row[2]],
            price=prices[row[3]],
            period_end=row[4],
            anchor_day=row[5],
            extra_seats=row[6],
            coterm_paid_seats=row[7],
            workspace_name=workspaces[row[1]][0],
            currency=workspaces[row[1]][1],
            country=workspaces[row[1]][2],
            vat_number=workspaces[row[1]][3],
            billing_email=workspaces[row[1]][4],
            zone=zone_named(workspaces[row[1]][5]),
        )
        for row in rows
    ]


def _addons_by_subscription(subscription_ids: list[int]) -> dict[int, list[pricing.AddOnLine]]:
    addons: dict[int, list[pricing.AddOnLine]] = defaultdict(list)
    with _raw_cursor() as cursor:
        cursor.execute(
            f"SELECT sa.subscription_id, a.name, a.monthly_amount, sa.quantity "
            f"FROM {SubscriptionAddOn._meta.db_table} AS sa JOIN {AddOn._meta.db_table} AS a ON a.id = sa.addon_id "
            "WHERE sa.subscription_id = ANY(%s) AND a.is_active ORDER BY sa.subscription_id, a.code",
            [subscription_ids],
        )
        for subscription_id, name, monthly_amount, quantity in cursor.fetchall():
            addons[subscription_id].append(
                pricing.AddOnLine(name=name, monthly_amount=int(monthly_amount), quantity=quantity)
            )
    return addons


def renew_batch(subscription_ids: list[int], *, now: datetime, run: RenewalRun) -> None:
    """Renew these subscriptions if still due (inside the caller's transaction)."""
    due = _lock_due(subscription_ids, now)
    if not due:
        return
    addons = _addons_by_subscription([d.id for d in due])
    billed: list[_Due] = []
    for d in due:
        d.start = d.period_end
        d.end = midnight(
            add_interval(day_of(d.start, d.zone), Interval(d.price.interval), anchor_day=d.anchor_day), d.zone
        )
        if not d.plan.is_free:
            d.lines = pricing.period_lines(
                plan=d.plan,
                price=d.price,
                billable=pricing.subscription_billable_seats(
                    d.plan, extra_seats=d.extra_seats, coterm_paid_seats=d.coterm_paid_seats
                ),
                addons=addons.get(d.id, []),
                start=d.start,
                end=d.end,
            )
        if sum(line.amount_cents for line in d.lines) > 0:
            billed.append(d)
    if billed:
        _issue_invoices(billed, now=now)
        run.invoiced += len(billed)
        run.to_charge.extend(
            d.invoice_id
            for d in billed
            if d.invoice_id is not None and d.totals and d.totals.amount_due_cents > 0
        )
    _advance_periods(due, now=now)
    copy_rows(
        SubscriptionEvent,
        [
            {
                "workspace_id": d.workspace_id,
                "subscription_id": d.id,
                "kind": EventKind.RENEWED.value,
                "created_at": now,
                "actor_id": None,
                "data": {
                    "period_start": d.start.isoformat(),
                    "period_end": d.end.isoformat(),
                    "invoice": d.invoice_id,
                    "total_cents": d.totals.total_cents if d.totals else 0,
                },
            }
            for d in due
        ],
    )
    # The audit trail (docs/rules/operators.md#audit-trail): a scheduled job's renewal.
    copy_rows(
        AuditEntry,
        [
            {
                "created_at": now,
                "workspace_id": d.workspace_id,
                "actor_kind": ActorKind.SYSTEM.value,
                "actor_id": None,
                "kind": AuditKind.SUBSCRIPTION_CHANGED.value,
                "object_type": "subscription",
                "object_id": str(d.id),
                "object_repr": "renew",
                "before": {"period_end": d.start.isoformat()},
                "after": {
                    "period_end": d.end.isoformat(),
                    "total_cents": d.totals.total_cents if d.totals else 0,
                    "currency": d.currency,
                },
            }
            for d in due
        ],
    )
    run.renewed += len(due)


def _issue_invoices(billed: list[_Due], *, now: datetime) -> None:
    issued = invoices_issue(
        [
            InvoiceDraft(
                buyer=Buyer(
                    workspace_id=d.workspace_id,
                    name=d.workspace_name,
                    email=d.billing_email,
                    country=d.country,
                    vat_number=d.vat_number,
                    currency=d.currency,
                ),
                billing_reason=BillingReason.SUBSCRIPTION_CYCLE.value,
                source=renewal_source(d.id, d.start, d.zone),
                lines=d.lines,
            )
            for d in billed
        ],
        now=now,
    )
    for d, invoice in zip(billed, issued, strict=True):
        d.invoice_id = invoice.invoice_id
        d.totals = invoice.totals


def _advance_periods(due: list[_Due], *, now: datetime) -> None:
    with _raw_cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Subscription._meta.db_table} AS s
               SET current_period_start = v.period_start, current_period_end = v.period_end, updated_at = %s
              FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS v(id, period_start, period_end)
             WHERE s.id = v.id AND s.id = ANY(%s)
            """,
            [now, [d.id for d in due], [d.start for d in due], [d.end for d in due], [d.id for d in due]],
        )
