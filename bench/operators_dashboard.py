"""Issue 14, acceptance: the operators' dashboard over 100,000 workspaces, against the bare
SQL it needs, same run (``BENCH_DASHBOARD_WORKSPACES`` for another size).

The base: N workspaces, each with a subscription cycling through the EUR prices and the
statuses (active, trialing, past due, cancelled this month for one of the eight reasons),
a paid invoice with its plan line for every other workspace (this month's period), an
invoice in dunning for each past-due one, a consumption on the ledger for one in four
(spread over 30 days), and 50 failed Stripe events.

* **value**: the dashboard page (``/admin/workspaces/workspace/dashboard/``) rendered for
  a superuser by Django's test client: request, middleware, the seven queries, the
  Python that shapes them, the template.
* **floor**: the same seven SQL statements with the same parameters on a bare cursor.

Limit: the page within 2 × the floor (median of 5 runs each, after one warm-up).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection

SIZE = int(os.environ.get("BENCH_DASHBOARD_WORKSPACES", "100000"))
RUNS = 5
LIMIT = 2.0
NOW = datetime(2026, 4, 15, 12, tzinfo=UTC)
BATCH = 5_000


def _seed(size: int) -> None:
    from credits.models import LedgerEntry
    from gateways.stripe.models import StripeEvent
    from invoices.models import Invoice, InvoiceLine
    from subscriptions.models import CancelReason, Price, Subscription, SubscriptionStatus
    from workspaces.models import Workspace

    prices = list(
        Price.objects.filter(currency="EUR", is_active=True, plan__is_free=False).select_related("plan")
    )
    statuses = [SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE,
                SubscriptionStatus.CANCELED]  # fmt: skip
    reasons = list(CancelReason.values)
    start, end = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    for offset in range(0, size, BATCH):
        workspaces = Workspace.objects.bulk_create(
            [Workspace(name=f"Bench {i}") for i in range(offset, min(size, offset + BATCH))]
        )
        subscriptions, invoices = [], []
        for i, workspace in enumerate(workspaces, start=offset):
            price, status = prices[i % len(prices)], statuses[i % len(statuses)]
            canceled = status == SubscriptionStatus.CANCELED
            subscriptions.append(Subscription(
                workspace=workspace, plan=price.plan, price=price, status=status, current_period_start=start,
                current_period_end=end, billing_anchor_day=1, auto_renew=not canceled,
                cancel_reason=reasons[i % len(reasons)] if canceled else "",
                canceled_at=NOW - timedelta(days=i % 30) if canceled else None,
                past_due_since=start if status == SubscriptionStatus.PAST_DUE else None,
            ))  # fmt: skip
            if i % 2 == 0 or status == SubscriptionStatus.PAST_DUE:
                amount = price.base_amount + price.seat_amount
                invoices.append(Invoice(
                    workspace=workspace, currency="EUR", status="draft", number=f"BENCH-{i}",
                    billing_reason="subscription_cycle", source=f"bench:{i}", issued_at=start,
                    subtotal_cents=amount, total_cents=amount, amount_due_cents=amount,
                    attempt_count=2 if status == SubscriptionStatus.PAST_DUE else 0,
                ))  # fmt: skip
        Subscription.objects.bulk_create(subscriptions)
        Invoice.objects.bulk_create(invoices)
        InvoiceLine.objects.bulk_create(
            [InvoiceLine(invoice=inv, kind="plan", description="Bench", quantity=1, unit_amount_cents=inv.total_cents,
                         amount_cents=inv.total_cents, period_start=start, period_end=end) for inv in invoices]
        )  # fmt: skip
        LedgerEntry.objects.bulk_create(
            [LedgerEntry(workspace=w, kind="consume", amount=-(i % 7 + 1), balance_after=100,
                         created_at=NOW - timedelta(days=i % 30, minutes=i % 600))
             for i, w in enumerate(workspaces, start=offset) if i % 4 == 0]
        )  # fmt: skip
    with connection.cursor() as cursor:
        # Finalize: the past-due workspaces' invoices are in dunning, the others paid.
        cursor.execute("""
            UPDATE invoices_invoice i SET status = CASE WHEN s.status = 'past_due' THEN 'failed' ELSE 'paid' END,
                   past_due_since = CASE WHEN s.status = 'past_due' THEN %s END
            FROM subscriptions_subscription s WHERE s.workspace_id = i.workspace_id AND i.number LIKE 'BENCH-%%'
        """, [datetime(2026, 4, 2, tzinfo=UTC)])  # fmt: skip
        cursor.execute("ANALYZE")
    StripeEvent.objects.bulk_create(
        [StripeEvent(event_id=f"evt_bench_{i}", type="invoice.payment_failed", created=NOW, payload={},
                     state="failed", attempts=3, last_error="bench") for i in range(50)]
    )  # fmt: skip


def _median(action: Any) -> float:
    action()  # warm-up
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run() -> list[dict[str, Any]]:
    import time_machine
    from django.test import Client
    from django.urls import reverse

    from console import dashboard
    from workspaces.models import User

    _seed(SIZE)
    admin = User.objects.create_user(
        email="bench-admin@ops.test", password="x", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(admin)
    url = reverse("admin:operators_dashboard")
    queries = dashboard.params(NOW, "UTC")

    def bare_sql() -> None:
        with connection.cursor() as cursor:
            for name in dashboard.QUERIES:
                cursor.execute(dashboard.SQL[name], queries[name])
                cursor.fetchall()

    def page() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"the dashboard answered {response.status_code}")

    with time_machine.travel(NOW, tick=True):
        floor = _median(bare_sql)
        value = _median(page)
    ratio = value / floor if floor else float("inf")
    return [
        {
            "name": f"operators' dashboard, {SIZE:,} workspaces (7 queries)",
            "value": value,
            "floor": floor,
            "ratio": ratio,
            "limit": LIMIT,
            "ok": ratio <= LIMIT,
        }
    ]
