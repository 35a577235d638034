"""Issue 3, acceptance 4 (renewal part): the renewal sweep against bulk SQL, same run.

For N = 10,000 and 100,000 due subscriptions (``BENCH_SIZES=1000,10000`` for a quick
run; mixed plans: Team Starter with extra seats, Business and Starter per seat, Pro
annual; two licensed members per workspace, holding co-termed paid seats on Business
(no included seat, no extra seat); add-ons on one in ten, a money credit on the account
balance of one in twenty):

* **value**: :func:`billing.services.renewals.renew_due_subscriptions`, which
  issues and finalizes every renewal invoice (lines, VAT, account credit applied,
  gap-free numbers from the locked counter), advances the periods and records the
  audit events. Charging runs afterwards in per-invoice tasks and is not timed.
* **floor**: the equivalent bulk SQL on an identical set of N other due subscriptions:
  ``INSERT … SELECT`` of the draft invoices (amounts computed in SQL, the billed seats
  being the extra seats plus the co-termed paid seats), ``INSERT … SELECT``
  of their lines (plan, seats, add-ons), numbered from the counter row, one ``UPDATE``
  finalizing them, one ``UPDATE`` advancing the periods.

Limits: ratio ≤ 5 at each size; and linear growth: the 100,000 run within 1.5 × ten
times the 10,000 run (the row also prints the plain 100k/10k time ratio).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "10000,100000").split(","))
RATIO_LIMIT = 5.0
LINEAR_LIMIT = 1.5
NOW = datetime(2026, 6, 1, 0, 5, tzinfo=UTC)
PERIOD_END = datetime(2026, 6, 1, tzinfo=UTC)

# (plan code, interval, extra seats) cycled over the subscriptions.
MIX = (
    ("team-starter", "month", 5),
    ("business", "month", 0),
    ("starter", "month", 2),
    ("pro", "year", 0),
    ("team-starter", "month", 0),
)


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


def _reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE invoices_invoiceline, invoices_accountbalanceentry, invoices_invoice, "
            "subscriptions_subscriptionevent, subscriptions_subscriptionaddon, subscriptions_subscription, "
            "workspaces_membership, workspaces_workspace CASCADE"
        )


def _setup(count: int, tag: str) -> None:
    """``count`` workspaces, each with two licensed members and a due subscription."""
    from subscriptions.models import AddOn, Price
    from workspaces.models import User

    owner, _ = User.objects.get_or_create(email="bench-owner@bench.test")
    member, _ = User.objects.get_or_create(email="bench-member@bench.test")
    prices = [
        Price.objects.select_related("plan").get(
            plan__code=code, interval=interval, currency="EUR", is_active=True
        )
        for code, interval, _extra in MIX
    ]
    addon = AddOn.objects.get(code="ai-credits")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE IF NOT EXISTS bench_mix (k int, plan_id bigint, price_id bigint, extra int,
                                                       months int);
            TRUNCATE bench_mix;
            """
        )
        for k, ((_code, interval, extra), price) in enumerate(zip(MIX, prices, strict=True)):
            cursor.execute(
                "INSERT INTO bench_mix VALUES (%s, %s, %s, %s, %s)",
                [k, price.plan_id, price.pk, extra, 12 if interval == "year" else 1],
            )
        cursor.execute(
            """
            INSERT INTO workspaces_workspace (id, name, currency, country, billing_email, vat_number,
                                              billing_time_zone, billing_time_zone_next, created_at)
            SELECT md5(%(tag)s || g)::uuid, 'Bench ' || %(tag)s || g, 'EUR', 'FR', 'billing@bench.test', '',
                   'Europe/Paris', '', %(now)s
              FROM generate_series(1, %(n)s) AS g;

            INSERT INTO workspaces_membership (workspace_id, user_id, role, created_at)
            SELECT md5(%(tag)s || g)::uuid, u.id, u.role, %(now)s
              FROM generate_series(1, %(n)s) AS g
             CROSS JOIN (VALUES (%(owner)s, 'owner'), (%(member)s, 'member')) AS u(id, role);

            INSERT INTO subscriptions_subscription (
                workspace_id, plan_id, price_id, status, current_period_start, current_period_end,
                billing_anchor_day, auto_renew, cancel_reason, cancel_comment, channel, extra_seats,
                created_at, updated_at)
            SELECT md5(%(tag)s || g)::uuid, m.plan_id, m.price_id, 'active',
                   %(end)s::timestamptz - make_interval(months => m.months), %(end)s, 1, true, '', '', 'web',
                   m.extra, %(now)s, %(now)s
              FROM generate_series(1, %(n)s) AS g
              JOIN bench_mix AS m ON m.k = g %% %(mix)s;

            -- Business bills every licence: the two members hold co-termed paid seats.
            INSERT INTO teams_seat (workspace_id, membership_id, user_id, user_email, interval, coterm,
                                    anchor_date, period_start, period_end, price_cents, currency, status,
                                    added_at, credit_count, last_credit_cents, pending_interval)
            SELECT s.workspace_id, m.id, m.user_id, 'seat@bench.test', p.interval, true,
                   s.current_period_start::date, s.current_period_start, s.current_period_end, p.seat_amount,
                   'EUR', 'active', %(now)s, 0, 0, ''
              FROM subscriptions_subscription AS s
              JOIN subscriptions_price AS p ON p.id = s.price_id
              JOIN subscriptions_plan AS pl ON pl.id = s.plan_id
              JOIN workspaces_workspace AS w ON w.id = s.workspace_id
              JOIN workspaces_membership AS m ON m.workspace_id = s.workspace_id
             WHERE w.name LIKE 'Bench ' || %(tag)s || '%%' AND pl.code = 'business';

            INSERT INTO subscriptions_subscriptionaddon (subscription_id, addon_id, quantity)
            SELECT s.id, %(addon)s, 2
              FROM subscriptions_subscription AS s
              JOIN workspaces_workspace AS w ON w.id = s.workspace_id
             WHERE w.name LIKE 'Bench ' || %(tag)s || '%%' AND s.id %% 10 = 0;

            INSERT INTO invoices_accountbalanceentry (workspace_id, amount_cents, currency, reason, source,
                                                      created_at, balance_after_cents)
            SELECT s.workspace_id, 1000, 'EUR', 'bench', 'bench:' || s.id, %(now)s, 1000
              FROM subscriptions_subscription AS s
              JOIN workspaces_workspace AS w ON w.id = s.workspace_id
             WHERE w.name LIKE 'Bench ' || %(tag)s || '%%' AND s.id %% 20 = 7;
            """,
            {
                "tag": tag,
                "n": count,
                "now": NOW - timedelta(days=400),
                "end": PERIOD_END,
                "owner": owner.pk,
                "member": member.pk,
                "mix": len(MIX),
                "addon": addon.pk,
            },  # fmt: skip
        )
        cursor.execute("ANALYZE")


FLOOR_SQL = """
SELECT count(*) FROM (SELECT 1 FROM subscriptions_subscription WHERE id = ANY(%(ids)s) FOR UPDATE) AS locked;

CREATE TEMP TABLE bench_due ON COMMIT DROP AS
SELECT s.id, s.workspace_id, nextval(pg_get_serial_sequence('invoices_invoice', 'id')) AS invoice_id,
       row_number() OVER (ORDER BY s.id) AS n,
       s.current_period_end AS period_start,
       s.current_period_end + make_interval(months => CASE WHEN p.interval = 'year' THEN 12 ELSE 1 END)
           AS period_end,
       p.base_amount AS base, p.seat_amount AS seat,
       CASE WHEN pl.seats_are_free THEN 0 ELSE s.extra_seats + COALESCE(seats.n, 0) END AS billable,
       COALESCE(ad.amount, 0) * CASE WHEN p.interval = 'year' THEN 12 ELSE 1 END AS addons,
       w.name, w.billing_email, w.country, w.vat_number, w.currency, pl.name AS plan_name
  FROM subscriptions_subscription AS s
  JOIN subscriptions_price AS p ON p.id = s.price_id
  JOIN subscriptions_plan AS pl ON pl.id = s.plan_id
  JOIN workspaces_workspace AS w ON w.id = s.workspace_id
  LEFT JOIN (SELECT workspace_id, count(*) AS n FROM teams_seat
              WHERE status = 'active' AND coterm GROUP BY workspace_id) AS seats
         ON seats.workspace_id = s.workspace_id
  LEFT JOIN (SELECT sa.subscription_id, sum(a.monthly_amount * sa.quantity) AS amount
               FROM subscriptions_subscriptionaddon AS sa JOIN subscriptions_addon AS a ON a.id = sa.addon_id
              GROUP BY sa.subscription_id) AS ad ON ad.subscription_id = s.id
 WHERE s.id = ANY(%(ids)s);

UPDATE invoices_invoicenumbercounter SET last_number = last_number + %(count)s
 WHERE series = 'INV' AND year = %(year)s;

INSERT INTO invoices_invoice (
    id, workspace_id, currency, status, number, language, billing_reason, source, created_at, issued_at, due_at,
    subtotal_cents, vat_rate_bp, vat_cents, account_credit_applied_cents, total_cents, amount_due_cents,
    reverse_charge, seller_name, seller_address, seller_country, seller_vat_number, seller_siren,
    buyer_name, buyer_email, buyer_country, buyer_vat_number, attempt_count, payment_reference,
    payment_failure_message, pdf, document_type)
SELECT d.invoice_id, d.workspace_id, d.currency, 'draft',
       'INV-' || %(year)s || '-' || lpad((c.last_number - %(count)s + d.n)::text, 6, '0'), 'fr',
       'subscription_cycle', 'renewal:' || d.id || ':' || d.period_start::date, %(now)s, %(now)s, %(now)s,
       t.subtotal, %(rate)s, t.vat, 0, t.subtotal + t.vat, t.subtotal + t.vat, false,
       %(seller)s, '', 'FR', '', '', d.name, d.billing_email, d.country, d.vat_number, 0, '', '', '', 'invoice'
  FROM bench_due AS d
 CROSS JOIN (SELECT last_number FROM invoices_invoicenumbercounter WHERE series = 'INV' AND year = %(year)s) AS c
 CROSS JOIN LATERAL (SELECT d.base + d.seat * d.billable + d.addons AS subtotal) AS s0
 CROSS JOIN LATERAL (SELECT s0.subtotal, (s0.subtotal * %(rate)s + 5000) / 10000 AS vat) AS t;

INSERT INTO invoices_invoiceline (invoice_id, position, kind, description, quantity, unit_amount_cents,
                                  amount_cents, period_start, period_end, metadata)
SELECT d.invoice_id, l.position, l.kind, l.description, l.quantity, l.unit, l.amount, d.period_start,
       d.period_end, '{}'
  FROM bench_due AS d
 CROSS JOIN LATERAL (VALUES
       (0, 'plan', d.plan_name || ', 1 period × ' || d.base, 1, d.base, d.base),
       (1, 'seats', d.plan_name || ', ' || d.billable || ' seats × ' || d.seat, d.billable::int, d.seat,
        d.seat * d.billable),
       (2, 'addon', 'AI credits × ' || d.addons, 1, d.addons, d.addons)) AS l(position, kind, description, quantity,
                                                                           unit, amount)
 WHERE l.amount > 0;

UPDATE invoices_invoice AS i SET status = 'open' FROM bench_due AS d WHERE i.id = d.invoice_id;

UPDATE subscriptions_subscription AS s
   SET current_period_start = d.period_start, current_period_end = d.period_end, updated_at = %(now)s
  FROM bench_due AS d WHERE s.id = d.id;
"""


def _floor(ids: list[int]) -> float:
    from invoices.models import InvoiceNumberCounter
    from invoices.numbering import number_year

    year = number_year(NOW)
    InvoiceNumberCounter.objects.get_or_create(series="INV", year=year)
    params = {"ids": ids, "now": NOW, "rate": int(settings.DEFAULT_VAT_RATE_BP), "seller": settings.SELLER_NAME,
              "count": len(ids), "year": year}  # fmt: skip
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, params)
    return time.perf_counter() - start


def _sweep() -> tuple[float, int]:
    from celery import current_app

    from billing.services.renewals import renew_due_subscriptions

    # The PDFs are rendered by a worker, never in the sweep: the sweep queues one task per
    # batch. Queue it for real (the test settings would run it eagerly, here, inline).
    conf = current_app.conf
    # The settings are read under Django's CELERY_ namespace: that key is the one to flip.
    eager, conf["CELERY_TASK_ALWAYS_EAGER"] = conf.task_always_eager, False
    try:
        start = time.perf_counter()
        run = renew_due_subscriptions(now=NOW)
        elapsed = time.perf_counter() - start
    finally:
        conf["CELERY_TASK_ALWAYS_EAGER"] = eager
    return elapsed, run.invoiced


def _measure(count: int) -> tuple[float, float]:
    from subscriptions.models import Subscription

    _reset()
    _setup(count, "floor-")
    _setup(count, "sweep-")
    floor_ids = list(
        Subscription.objects.filter(workspace__name__startswith="Bench floor-").values_list("id", flat=True)
    )
    floor = _floor(floor_ids)
    value, invoiced = _sweep()
    if invoiced != count:
        raise AssertionError(f"the sweep issued {invoiced} invoices for {count} due subscriptions")
    return value, floor


def run() -> list[dict[str, Any]]:
    results = {count: _measure(count) for count in SIZES}
    small, large = SIZES
    rows = [
        _row(f"renewal sweep, {count:,} due (vs bulk SQL)", value, floor, RATIO_LIMIT)
        for count, (value, floor) in results.items()
    ]
    growth = results[large][0] / results[small][0]
    linear = _row(
        f"renewal sweep {large:,} vs {large // small}× {small:,} (time ratio {growth:.1f})",
        results[large][0],
        results[small][0] * (large // small),
        LINEAR_LIMIT,
    )
    rows.append(linear)
    _reset()
    return rows
