"""The renewal sweep, set-based (SPEC.md "Scheduled work"; issue 3, acceptance 4).

Renewing one subscription at a time through :func:`invoices.services.invoice_create`
costs a dozen queries each; the sweep renews thousands at once instead, with the same
rules and the same results:

1. lock the due subscription rows (``SKIP LOCKED``: a row held by a user's change is
   renewed by the next run) and re-check that they are still due;
2. read, in that same query, the paid seats co-termed with each subscription (seed 002:
   the subscription bills ``extra_seats`` + its co-termed paid seats; a seat on another
   interval is billed by its own renewal, :mod:`billing.seat_sweeps`), then the add-ons of the
   whole batch (index lookups only), and build each renewal's lines with
   :mod:`subscriptions.pricing`, as :func:`~billing.services.lifecycle.apply_renew`
   does;
3. lock the account balances that hold money
   (:func:`invoices.services.account_balances_lock`) and compute each invoice's totals
   with :func:`invoices.totals.compute_totals`;
4. reserve consecutive numbers (:func:`invoices.services.reserve_invoice_numbers`: the
   year's counter row, taken last and locked until commit, so numbering is gap-free), then
   ``COPY`` the invoices in as drafts, their lines and the account-credit entries, and
   finalize them all with one ``UPDATE`` (a finalized invoice takes no new lines);
5. advance every period in one ``UPDATE … FROM unnest(…)`` and ``COPY`` the audit events.

Rows are written with ``COPY`` from the models' own field defaults, so a column added to
a model later is filled as ``bulk_create`` would fill it.

Charging is not part of it: the sweep queues one charge task per invoice after commit.
Free and zero-priced subscriptions only move to their next period.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, models, transaction
from psycopg.types.json import Jsonb

from billing.services.changes import renewal_source
from domain.periods import Interval, add_interval
from domain.vat import is_reverse_charge
from invoices.models import (
    AccountBalanceEntry,
    BillingReason,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from invoices.services import account_balances_lock, reserve_invoice_numbers
from invoices.totals import DraftLine, Totals, compute_totals
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
            f"SELECT id, name, currency, country, vat_number, billing_email FROM {Workspace._meta.db_table} "
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


_LATEST_BALANCES = (
    "SELECT DISTINCT ON (workspace_id) workspace_id, balance_after_cents "
    f"FROM {AccountBalanceEntry._meta.db_table} WHERE workspace_id = ANY(%s) ORDER BY workspace_id, id DESC"
)


def _locked_balances(workspace_ids: list[Any]) -> dict[Any, int]:
    """Positive account balances, read again under the invoices app's per-workspace
    advisory lock so that no credit lands between our read and our ledger entry. A
    workspace read at zero is not locked: nothing of its balance is applied, so a credit
    arriving meanwhile simply waits for its next invoice."""
    with _raw_cursor() as cursor:
        cursor.execute(_LATEST_BALANCES, [workspace_ids])
        holders = sorted((w for w, balance in cursor.fetchall() if balance > 0), key=str)
        if not holders:
            return {}
        account_balances_lock(holders)
        cursor.execute(_LATEST_BALANCES, [holders])
        return dict(cursor.fetchall())


def _copy(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """``COPY`` rows into ``model``'s table; missing fields take the model's defaults."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in rows[0])]
    defaults = {f.attname: f.get_default() for f in fields}
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(
                    [
                        Jsonb(row.get(n, defaults[n])) if n in json_fields else row.get(n, defaults[n])
                        for n in names
                    ]
                )


def renew_batch(subscription_ids: list[int], *, now: datetime, run: RenewalRun) -> None:
    """Renew these subscriptions if still due (inside the caller's transaction)."""
    due = _lock_due(subscription_ids, now)
    if not due:
        return
    addons = _addons_by_subscription([d.id for d in due])
    billed: list[_Due] = []
    for d in due:
        d.start = d.period_end
        d.end = pricing.midnight(
            add_interval(d.start.date(), Interval(d.price.interval), anchor_day=d.anchor_day)
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
    _copy(
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
    run.renewed += len(due)


def _issue_invoices(billed: list[_Due], *, now: datetime) -> None:
    balances = _locked_balances([d.workspace_id for d in billed])
    vat_rate_bp = int(settings.DEFAULT_VAT_RATE_BP)
    for d in billed:
        d.totals = compute_totals(
            d.lines,
            vat_rate_bp=vat_rate_bp,
            reverse_charge=is_reverse_charge(
                buyer_country=d.country, buyer_vat_number=d.vat_number, seller_country=settings.SELLER_COUNTRY
            ),
            account_balance_cents=balances.get(d.workspace_id, 0),
        )
    with _raw_cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Invoice._meta.db_table, len(billed)],
        )
        for d, (invoice_id,) in zip(billed, cursor.fetchall(), strict=True):
            d.invoice_id = invoice_id
    # Numbers last (after the account-balance locks): the year's counter row stays locked
    # until commit, so a rollback gives the numbers back and numbering stays gap-free.
    numbers = reserve_invoice_numbers(issued_at=now, count=len(billed))
    seller = {
        "seller_name": settings.SELLER_NAME,
        "seller_address": settings.SELLER_ADDRESS,
        "seller_country": settings.SELLER_COUNTRY,
        "seller_vat_number": settings.SELLER_VAT_NUMBER,
        "seller_siren": settings.SELLER_SIREN,
    }
    invoices = []
    for d, number in zip(billed, numbers, strict=True):
        assert d.totals is not None
        invoices.append(
            {
                "id": d.invoice_id,
                "workspace_id": d.workspace_id,
                "currency": d.currency,
                "status": InvoiceStatus.DRAFT.value,
                "number": number,
                "billing_reason": BillingReason.SUBSCRIPTION_CYCLE.value,
                "source": renewal_source(d.id, d.start),
                "created_at": now,
                "issued_at": now,
                "due_at": now,
                "subtotal_cents": d.totals.subtotal_cents,
                "vat_rate_bp": d.totals.vat_rate_bp,
                "vat_cents": d.totals.vat_cents,
                "reverse_charge": d.totals.reverse_charge,
                "total_cents": d.totals.total_cents,
                "account_credit_applied_cents": d.totals.account_credit_applied_cents,
                "amount_due_cents": d.totals.amount_due_cents,
                **seller,
                "buyer_name": d.workspace_name,
                "buyer_email": d.billing_email,
                "buyer_country": d.country,
                "buyer_vat_number": d.vat_number,
            }
        )
    _copy(Invoice, invoices)
    _copy(
        InvoiceLine,
        [
            {
                "invoice_id": d.invoice_id,
                "position": position,
                "kind": line.kind,
                "description": line.description,
                "quantity": line.quantity,
                "unit_amount_cents": line.unit_amount_cents,
                "amount_cents": line.amount_cents,
                "period_start": line.period_start,
                "period_end": line.period_end,
                "metadata": dict(line.metadata),
            }
            for d in billed
            for position, line in enumerate(d.lines)
        ],
    )
    _copy(
        AccountBalanceEntry,
        [
            {
                "workspace_id": d.workspace_id,
                "amount_cents": -d.totals.account_credit_applied_cents,
                "currency": d.currency,
                "reason": "applied_to_invoice",
                "source": f"invoice:{d.invoice_id}:applied",
                "invoice_id": d.invoice_id,
                "created_at": now,
                "balance_after_cents": d.totals.account_credit_remaining_cents,
            }
            for d in billed
            if d.totals is not None and d.totals.account_credit_applied_cents
        ],
    )
    paid_now = [d.invoice_id for d in billed if d.totals is not None and d.totals.amount_due_cents == 0]
    with _raw_cursor() as cursor:
        cursor.execute(
            f"UPDATE {Invoice._meta.db_table} SET status = CASE WHEN id = ANY(%s) THEN %s ELSE %s END, "
            "paid_at = CASE WHEN id = ANY(%s) THEN %s::timestamptz END "
            "WHERE id = ANY(%s) AND status = %s",
            [
                paid_now,
                InvoiceStatus.PAID.value,
                InvoiceStatus.OPEN.value,
                paid_now,
                now,
                [d.invoice_id for d in billed],
                InvoiceStatus.DRAFT.value,
            ],
        )
    if paid_now:
        transaction.on_commit(lambda: _queue_receipts(paid_now), robust=True)


def _queue_receipts(invoice_ids: list[int | None]) -> None:
    from invoices.tasks import send_invoice_receipt_task

    for invoice_id in invoice_ids:
        if invoice_id is not None:
            send_invoice_receipt_task.delay(invoice_id)


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
