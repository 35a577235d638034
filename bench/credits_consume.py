"""Issue 4, acceptance 4: the credit hot path and the allowance reset, against floors
measured in the same run (rows: seconds per operation, ratio = ours / floor, lower is better).

* **Floor for consumption**: a raw-SQL loop doing the same ``UPDATE`` of the balance row
  + ``INSERT`` of a ledger entry, one transaction each, from 16 threads through the
  same connection pool (Django connections, one per thread), on one workspace.
* **In-process** ``credits_consume`` from 16 threads on the same workspace: at least
  50 % of the floor's throughput, i.e. at most 2× its time per consume.
* **API over HTTP**: 16 concurrent keep-alive clients POSTing ``/credits/consume`` to the
  app served by gunicorn on 127.0.0.1 (a bounded number of requests): at least 25 %
  of the floor's throughput, i.e. at most 4× its time per consume.
* **reset_allowances** for 100,000 workspaces (mixed Free / renewal / calendar plans,
  two licensed members each, some add-ons) within 5× equivalent bulk SQL run on an
  identical set of 100,000 workspaces. The 1,000,000-workspace run (linear scaling:
  compared with 10× the 100,000 figure) is opt-in, ``BENCH_LARGE=1``, so that
  ``make bench`` stays within about ten minutes.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from bench.serving import GunicornServer, parallel

CLIENTS = 16
CONSUMES_PER_THREAD = 300
HTTP_REQUESTS_PER_CLIENT = 150
HTTP_LIMIT = 4.0  # throughput >= 25 % of the floor
SERVICE_LIMIT = 2.0  # throughput >= 50 % of the floor
RESET_LIMIT = 5.0
RESET_WORKSPACES = 100_000
LARGE_RESET_WORKSPACES = 1_000_000
LINEAR_LIMIT = 1.5  # 1,000,000 within 1.5x ten times the 100,000 figure


def _row(name: str, value: float, floor: float, limit: float) -> dict[str, Any]:
    ratio = value / floor if floor else float("inf")
    return {
        "name": name,
        "value": value,
        "floor": floor,
        "ratio": ratio,
        "limit": limit,
        "ok": ratio <= limit,
    }


def _funded_workspace(name: str, credits: int) -> tuple[Any, Any]:
    from credits import services
    from workspaces.models import Membership, Role, User, Workspace

    now = datetime.now(UTC)
    workspace = Workspace.objects.create(name=name)
    user = User.objects.create_user(email=f"{uuid.uuid4().hex}@bench.test", password=None)
    member = Membership.objects.create(workspace=workspace, user=user, role=Role.MEMBER)
    services.credits_grant_purchased(
        workspace=workspace, credits=credits, amount_paid_cents=0, currency="EUR", source="bench", now=now
    )
    return workspace, member


RAW_UPDATE = (
    "UPDATE credits_creditbalance SET balance = balance - 1, updated_at = %s "
    "WHERE workspace_id = %s AND balance >= 1 RETURNING balance"
)
RAW_INSERT = (
    "INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, actor_id, idempotency_key, "
    "request_hash, note, created_at) VALUES (%s, 'consume', -1, %s, %s, %s, '', '', %s)"
)


def _raw_floor(per_thread: int) -> float:
    """Seconds per consume of the raw UPDATE + INSERT loop from CLIENTS threads."""
    workspace, member = _funded_workspace("Bench raw", CLIENTS * per_thread + 1)

    def loop(index: int) -> None:
        with connection.cursor() as cursor:
            for n in range(per_thread):
                with transaction.atomic():
                    now = datetime.now(UTC)
                    cursor.execute(RAW_UPDATE, [now, workspace.pk])
                    (balance,) = cursor.fetchone()
                    cursor.execute(
                        RAW_INSERT, [workspace.pk, balance, member.user_id, f"raw-{index}-{n}", now]
                    )

    return parallel(CLIENTS, loop) / (CLIENTS * per_thread)


def _service(per_thread: int) -> float:
    from credits import services

    workspace, member = _funded_workspace("Bench service", CLIENTS * per_thread + 1)

    def loop(index: int) -> None:
        for n in range(per_thread):
            services.credits_consume(
                workspace=workspace, actor=member, action="summarize", idempotency_key=f"svc-{index}-{n}"
            )

    return parallel(CLIENTS, loop) / (CLIENTS * per_thread)


def _http(per_client: int) -> float:
    from credits.apikeys import api_key_create

    workspace, member = _funded_workspace("Bench HTTP", CLIENTS * (per_client + 20) + 1)
    _key, key = api_key_create(workspace=workspace, actor=None, name="bench")
    body = json.dumps({"action": "summarize", "quantity": 1, "user": member.user.email})
    path = f"/api/v1/workspaces/{workspace.pk}/credits/consume"
    # One key sends every request here: its rate limit (still counted in Redis, as in
    # production) is set above what the benchmark sends.
    server = GunicornServer(
        settings_module="config.test_settings", clients=CLIENTS, extra_env={"API_RATE_LIMIT": "1000000/min"}
    )
    try:
        server.wait_ready("/healthz")  # the process answers (the API's schema is for staff)

        def client(index: int, count: int, tag: str) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            for n in range(count):
                conn.request(
                    "POST", path, body=body,
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                             "Idempotency-Key": f"{tag}-{index}-{n}"},
                )  # fmt: skip
                response = conn.getresponse()
                payload = response.read()
                if response.status != 200:
                    raise RuntimeError(f"consume answered {response.status}: {payload[:200]!r}")
            conn.close()

        parallel(CLIENTS, lambda i: client(i, 20, "warm"))
        elapsed = parallel(CLIENTS, lambda i: client(i, per_client, "http"))
    finally:
        server.stop()
    return elapsed / (CLIENTS * per_client)


# --- reset_allowances --------------------------------------------------------------------------


def _populate(count: int, tag: str) -> list[uuid.UUID]:
    """``count`` workspaces with two licensed members each: a third on Free, a third on
    Starter (renewal, days 1-31), a third on Enterprise (calendar); one in ten with an add-on."""
    from subscriptions.models import AddOn, Plan, Price, Subscription, SubscriptionAddOn
    from workspaces.models import User

    users = [User.objects.create_user(email=f"{tag}-{i}-{uuid.uuid4().hex[:8]}@bench.test") for i in range(2)]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO workspaces_workspace (id, name, currency, country, billing_email, vat_number, "
            "billing_time_zone, billing_time_zone_next, created_at) "
            "SELECT gen_random_uuid(), %s || n, 'EUR', 'FR', '', '', 'Europe/Paris', '', now() "
            "FROM generate_series(1, %s) n "
            "RETURNING id",
            [f"{tag} ", count],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        for user, role in zip(users, ("owner", "member"), strict=True):
            cursor.execute(
                "INSERT INTO workspaces_membership (workspace_id, user_id, role, created_at) "
                "SELECT id, %s, %s, now() FROM unnest(%s::uuid[]) id",
                [user.pk, role, ids],
            )
    starter, enterprise = Plan.objects.get(code="starter"), Plan.objects.get(code="enterprise")
    prices = {p.plan_id: p for p in Price.objects.filter(plan__in=(starter, enterprise), interval="month")}
    start = datetime(2026, 2, 1, tzinfo=UTC)
    subscriptions = []
    for n, workspace_id in enumerate(ids):
        if n % 3 == 0:
            continue
        plan = starter if n % 3 == 1 else enterprise
        subscriptions.append(
            Subscription(
                workspace_id=workspace_id, plan=plan, price=prices[plan.pk], status="active",
                current_period_start=start, current_period_end=datetime(2026, 3, 1, tzinfo=UTC),
                billing_anchor_day=n % 31 + 1,
            )
        )  # fmt: skip
    Subscription.objects.bulk_create(subscriptions, batch_size=5_000)
    addon = AddOn.objects.get(code="ai-credits")
    with_addons = Subscription.objects.filter(workspace_id__in=ids[::10]).values_list("pk", flat=True)
    SubscriptionAddOn.objects.bulk_create(
        [SubscriptionAddOn(subscription_id=pk, addon=addon, quantity=1) for pk in with_addons],
        batch_size=5_000,
    )
    return ids


# The equivalent bulk SQL: the same expiry, grants, ledger entries and balance moves for
# every due workspace of the set at once, in one transaction, with no batching or row
# locking, and the period rows given (as to ours).
FLOOR_RESET = [
    """CREATE TEMP TABLE floor_due ON COMMIT DROP AS
       SELECT b.workspace_id, b.balance, w.billing_time_zone AS zone
       FROM credits_creditbalance b JOIN workspaces_workspace w ON w.id = b.workspace_id
       WHERE b.workspace_id = ANY(%(ids)s::uuid[])
         AND b.period_end <= (%(now)s::timestamptz AT TIME ZONE w.billing_time_zone)::date""",
    "ANALYZE floor_due",
    """CREATE TEMP TABLE floor_alloc ON COMMIT DROP AS
       SELECT d.workspace_id, d.zone,
              (%(p_start)s::date[])[x.r + 1] AS start_day, (%(p_end)s::date[])[x.r + 1] AS end_day,
              COALESCE(p.credits_flat, 0) + COALESCE(p.credits_per_seat, 0) * COALESCE(seats.n, 0) AS plan_credits,
              COALESCE(addons.credits, 0) AS addon_credits
       FROM floor_due d
       LEFT JOIN subscriptions_subscription s ON s.workspace_id = d.workspace_id AND s.status <> 'expired'
       LEFT JOIN subscriptions_plan p ON p.id = COALESCE(s.plan_id, (SELECT id FROM subscriptions_plan WHERE is_free))
       CROSS JOIN LATERAL (SELECT CASE WHEN p.credit_reset = 'renewal' AND s.id IS NOT NULL
                                       THEN s.billing_anchor_day ELSE 0 END AS r) x
       LEFT JOIN (SELECT m.workspace_id, count(*) AS n FROM workspaces_membership m JOIN floor_due USING (workspace_id)
                  WHERE m.role = ANY(%(licensed)s::text[]) GROUP BY 1) seats ON seats.workspace_id = d.workspace_id
       LEFT JOIN (SELECT sa.subscription_id, SUM(sa.quantity * a.monthly_credits) AS credits
                  FROM subscriptions_subscriptionaddon sa JOIN subscriptions_addon a ON a.id = sa.addon_id
                  WHERE a.is_active GROUP BY 1) addons ON addons.subscription_id = s.id""",
    "ANALYZE floor_alloc",
    """CREATE TEMP TABLE floor_expired ON COMMIT DROP AS
       WITH x AS (SELECT g.id, g.workspace_id, g.remaining FROM credits_creditgrant g JOIN floor_due USING (workspace_id)
                  WHERE g.bucket IN ('plan_allowance', 'addon_allowance') AND g.expired_at IS NULL),
            u AS (UPDATE credits_creditgrant g SET remaining = 0, expired_at = %(now)s FROM x WHERE g.id = x.id
                  RETURNING g.id, g.workspace_id, x.remaining)
       SELECT * FROM u""",
    """CREATE TEMP TABLE floor_expired_totals ON COMMIT DROP AS
       SELECT workspace_id, SUM(remaining)::bigint AS total FROM floor_expired GROUP BY 1""",
    "ANALYZE floor_expired",
    "ANALYZE floor_expired_totals",
    """INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, grant_id, request_hash, note, created_at)
       SELECT e.workspace_id, 'expire', -e.remaining,
              d.balance - SUM(e.remaining) OVER (PARTITION BY e.workspace_id ORDER BY e.id), e.id, '', '', %(now)s
       FROM floor_expired e JOIN floor_due d USING (workspace_id) WHERE e.remaining > 0
       ORDER BY e.workspace_id, e.id""",
    """CREATE TEMP TABLE floor_new ON COMMIT DROP AS
       WITH n AS (
         INSERT INTO credits_creditgrant (workspace_id, bucket, amount, remaining, period_start, period_end, expires_at,
                                          source, amount_paid_cents, currency, reason, created_at)
         SELECT a.workspace_id, g.bucket, g.amount, g.amount, a.start_day, a.end_day,
                a.end_day::timestamp AT TIME ZONE a.zone, '', 0, 'EUR', '', %(now)s
         FROM floor_alloc a CROSS JOIN LATERAL (VALUES (1, 'plan_allowance', a.plan_credits),
                                                      (2, 'addon_allowance', a.addon_credits)) g(rank, bucket, amount)
         WHERE g.amount > 0 ORDER BY a.workspace_id, g.rank
         RETURNING id, workspace_id, amount)
       SELECT * FROM n""",
    "ANALYZE floor_new",
    """INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, grant_id, request_hash, note, created_at)
       SELECT n.workspace_id, 'grant', n.amount,
              d.balance - COALESCE(x.total, 0) + SUM(n.amount) OVER (PARTITION BY n.workspace_id ORDER BY n.id),
              n.id, '', '', %(now)s
       FROM floor_new n JOIN floor_due d USING (workspace_id) LEFT JOIN floor_expired_totals x USING (workspace_id)
       ORDER BY n.workspace_id, n.id""",
    """UPDATE credits_creditbalance b
       SET balance = b.balance - COALESCE(x.total, 0) + COALESCE(g.total, 0), allowance_total = COALESCE(g.total, 0),
           allowance_used = 0, period_start = a.start_day, period_end = a.end_day, notified_percent = 0,
           updated_at = %(now)s
       FROM floor_alloc a
       LEFT JOIN floor_expired_totals x USING (workspace_id)
       LEFT JOIN (SELECT workspace_id, SUM(amount) total FROM floor_new GROUP BY 1) g USING (workspace_id)
       WHERE b.workspace_id = a.workspace_id""",
]


def _floor_reset(ids: list[uuid.UUID], now: datetime) -> float:
    from credits.allowances import LICENSED_ROLES, _period_table

    # Every bench workspace reads its billing days in Paris: one period table, that day's.
    params: dict[str, Any] = {
        "ids": ids,
        "now": now,
        "licensed": LICENSED_ROLES,
        **_period_table(now.astimezone(ZoneInfo("Europe/Paris")).date()),
    }
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in FLOOR_RESET:
            cursor.execute(statement, params)
    return time.perf_counter() - start


def _allowance_state(ids: list[uuid.UUID]) -> tuple[int, int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), COALESCE(SUM(balance), 0), COALESCE(SUM(allowance_total), 0) "
            "FROM credits_creditbalance WHERE workspace_id = ANY(%s::uuid[])",
            [ids],
        )
        count, balance, allowance = cursor.fetchone()
    return int(count), int(balance), int(allowance)


def _reset(count: int) -> tuple[float, float]:
    """(ours, floor) seconds to reset ``count`` workspaces whose credit period ended."""
    from credits import allowances

    first, later = datetime(2026, 3, 1, 6, tzinfo=UTC), datetime(2026, 4, 1, 6, tzinfo=UTC)
    ours_ids, floor_ids = _populate(count, "ours"), _populate(count, "floor")
    allowances.create_missing_balances(now=first)
    allowances.allowances_reset(now=first)  # everyone's first allowance, in the March periods
    floor_seconds = _floor_reset(floor_ids, later)  # the floor set is no longer due afterwards
    start = time.perf_counter()
    reset = allowances.allowances_reset(now=later)
    ours = time.perf_counter() - start
    if reset != count or _allowance_state(ours_ids) != _allowance_state(floor_ids):
        raise RuntimeError(
            f"reset mismatch: {reset} reset, {_allowance_state(ours_ids)} vs {_allowance_state(floor_ids)}"
        )
    return ours, floor_seconds


def run() -> list[dict[str, Any]]:
    floor = _raw_floor(CONSUMES_PER_THREAD)
    service = _service(CONSUMES_PER_THREAD)
    api = _http(HTTP_REQUESTS_PER_CLIENT)
    rows = [
        _row(f"consume service, {CLIENTS} threads ({1 / service:,.0f}/s vs raw SQL {1 / floor:,.0f}/s)",
             service, floor, SERVICE_LIMIT),
        _row(f"consume API over HTTP, {CLIENTS} clients ({1 / api:,.0f}/s vs raw SQL {1 / floor:,.0f}/s)",
             api, floor, HTTP_LIMIT),
    ]  # fmt: skip
    ours, reference = _reset(RESET_WORKSPACES)
    rows.append(
        _row(f"reset_allowances, {RESET_WORKSPACES:,} workspaces (vs bulk SQL)", ours, reference, RESET_LIMIT)
    )
    if os.environ.get("BENCH_LARGE") == "1":
        large, large_floor = _reset(LARGE_RESET_WORKSPACES)
        rows.append(_row(f"reset_allowances, {LARGE_RESET_WORKSPACES:,} workspaces (vs 10x the 100,000 run)",
                         large, 10 * ours, LINEAR_LIMIT))  # fmt: skip
        rows.append(_row(f"reset_allowances, {LARGE_RESET_WORKSPACES:,} workspaces (vs bulk SQL)",
                         large, large_floor, RESET_LIMIT))  # fmt: skip
    else:
        print(
            f"reset_allowances for {LARGE_RESET_WORKSPACES:,} workspaces not run: set BENCH_LARGE=1 "
            "(takes several minutes).",
            file=sys.stderr,
        )
    return rows
