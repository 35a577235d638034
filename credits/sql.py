"""The ledger's SQL: the consumption hot path and the set-based allowance reset.

Every write on a workspace's credits first locks its ``credits_creditbalance`` row
(``LOCK_*`` statements); the next statement then runs on a fresh snapshot taken
after the lock was granted, so it sees every committed change of that workspace's
grants. That is what makes the single writable-CTE statements below safe: no other
transaction can touch the same grants between the lock and the commit.

Consumption order (docs/rules/credits.md#consumption-order): the grant that expires
soonest first, then the oldest; purchased and free grants never expire and come last.

Two rules are written here once, as SQL, for every reader and writer of the ledger:
which grants are spendable (:func:`spendable`) and how large a workspace's allowance is
(:data:`ALLOWANCE_OF`, the part of :data:`RESET_LOCKED` that computes it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

from teams.selectors import licences_sql

ALLOWANCE_SQL_LIST = "('plan_allowance', 'addon_allowance')"


def spendable(alias: str = "g", *, now: str = "%(now)s") -> str:
    """The SQL condition that the ``credits_creditgrant`` row ``alias`` can be spent at the
    instant bound to the placeholder ``now`` (``"%s"`` for positional parameters): credits
    left, neither expired by a reset nor revoked, and not past its own expiry (an
    allowance whose period ended, before the sweep expires it).

    The one definition of spendable credits: the charge statements, the balance card
    (:func:`credits.selectors.credit_summary`) and any other reader use it.
    """
    return (
        f"{alias}.remaining > 0 AND {alias}.expired_at IS NULL AND {alias}.revoked_at IS NULL"
        f" AND ({alias}.expires_at IS NULL OR {alias}.expires_at > {now})"
    )


#: Lock the balance row, look the action up and find a previous use of the key.
LOCK_FOR_ACTION = """
SELECT b.balance, b.period_start, b.period_end, b.allowance_total, b.allowance_used, b.notified_percent,
       a.id, a.cost,
       e.id, e.kind, e.amount, e.balance_after, e.request_hash, e.reservation_id
FROM credits_creditbalance b
LEFT JOIN credits_actiontype a ON a.code = %(action)s AND a.is_active
LEFT JOIN credits_ledgerentry e ON e.workspace_id = b.workspace_id AND e.idempotency_key = %(key)s
WHERE b.workspace_id = %(ws)s
FOR UPDATE OF b
"""

#: Lock the balance row alone.
LOCK_BALANCE = """
SELECT b.balance, b.period_start, b.period_end, b.allowance_total, b.allowance_used, b.notified_percent
FROM credits_creditbalance b WHERE b.workspace_id = %(ws)s FOR UPDATE
"""

#: A workspace's balance row, created empty and due for its first allowance.
CREATE_BALANCE = """
INSERT INTO credits_creditbalance
    (workspace_id, balance, allowance_total, allowance_used, period_start, period_end, notified_percent, updated_at)
SELECT w.id, 0, 0, 0, NULL, NULL, 0, %(now)s FROM workspaces_workspace w WHERE w.id = %(ws)s
ON CONFLICT (workspace_id) DO NOTHING
"""

#: Balance rows for every workspace that lacks one (the sweep's "missing allowances").
CREATE_MISSING_BALANCES = """
INSERT INTO credits_creditbalance
    (workspace_id, balance, allowance_total, allowance_used, period_start, period_end, notified_percent, updated_at)
SELECT w.id, 0, 0, 0, NULL, NULL, 0, %(now)s FROM workspaces_workspace w
WHERE NOT EXISTS (SELECT 1 FROM credits_creditbalance b WHERE b.workspace_id = w.id)
ON CONFLICT (workspace_id) DO NOTHING
"""

# A charge gates itself: it writes only if the key is new, the action exists, the
# credit period is current and the balance covers the cost, all read after the lock.
# So the statement can be sent in the same round trip as the lock and the COMMIT
# (ledger.charge_pipelined) and nothing reaches the client while the row is locked.
_ACTION_GATE = """
gate AS (
    SELECT a.id AS action_id, a.cost::bigint * %(quantity)s AS cost
    FROM credits_creditbalance b
    JOIN credits_actiontype a ON a.code = %(action)s AND a.is_active
    WHERE b.workspace_id = %(ws)s AND b.period_end > %(today)s AND b.balance >= a.cost::bigint * %(quantity)s
      AND NOT EXISTS (
          SELECT 1 FROM credits_ledgerentry e WHERE e.workspace_id = %(ws)s AND e.idempotency_key = %(key)s
      )
)"""

_AMOUNT_GATE = """
gate AS (
    SELECT NULL::bigint AS action_id, %(cost)s::bigint AS cost
    FROM credits_creditbalance b WHERE b.workspace_id = %(ws)s AND b.balance >= %(cost)s::bigint
)"""

# Take the gate's cost from the live grants in consumption order (all or nothing), and
# move the cached balance and the allowance counter. Leaves ``drawn`` and ``bal``.
_DRAW = f"""
candidates AS (
    SELECT g.id, g.bucket, g.remaining,
           SUM(g.remaining) OVER (ORDER BY g.expires_at ASC NULLS LAST, g.created_at, g.id) AS running
    FROM credits_creditgrant g
    WHERE g.workspace_id = %(ws)s AND {spendable("g")} AND EXISTS (SELECT 1 FROM gate)
), takes AS (
    SELECT c.id, c.bucket, LEAST(c.remaining, gate.cost - (c.running - c.remaining))::bigint AS take
    FROM candidates c, gate WHERE c.running - c.remaining < gate.cost
), enough AS (
    SELECT gate.action_id, gate.cost FROM gate WHERE gate.cost = (SELECT COALESCE(SUM(take), 0) FROM takes)
), drawn AS (
    UPDATE credits_creditgrant g SET remaining = g.remaining - t.take
    FROM takes t, enough WHERE g.id = t.id
    RETURNING g.id, g.bucket, t.take
), totals AS (
    SELECT enough.action_id, enough.cost AS taken,
           (SELECT COALESCE(SUM(take), 0) FROM drawn WHERE bucket IN {ALLOWANCE_SQL_LIST})::bigint AS from_allowance
    FROM enough
), bal AS (
    UPDATE credits_creditbalance b
    SET balance = b.balance - t.taken, allowance_used = b.allowance_used + t.from_allowance, updated_at = %(now)s
    FROM totals t WHERE b.workspace_id = %(ws)s
    RETURNING b.balance, b.allowance_used, b.allowance_total, t.taken, t.action_id
)"""

_USAGE = """
usage AS (
    INSERT INTO credits_dailyusage (workspace_id, day, credits_used, actions)
    SELECT %(ws)s, %(today)s, {amount}, 1 FROM {source}
    ON CONFLICT (workspace_id, day) DO UPDATE
    SET credits_used = credits_dailyusage.credits_used + EXCLUDED.credits_used,
        actions = credits_dailyusage.actions + 1
)"""

CONSUME = f"""
WITH {_ACTION_GATE}, {_DRAW}, entry AS (
    INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, action_id, quantity, actor_id,
                                     idempotency_key, request_hash, note, created_at)
    SELECT %(ws)s, 'consume', -bal.taken, bal.balance, bal.action_id, %(quantity)s, %(actor_id)s,
           %(key)s, %(hash)s, '', %(now)s
    FROM bal
    RETURNING id
), {_USAGE.format(amount="bal.taken", source="bal")}
SELECT entry.id, bal.taken, bal.balance, bal.allowance_used, bal.allowance_total, NULL::uuid FROM entry, bal
"""

RESERVE = f"""
WITH {_ACTION_GATE}, {_DRAW}, res AS (
    INSERT INTO credits_reservation (id, workspace_id, action_id, quantity, amount, status, allocations, actor_id,
                                     created_at, expires_at)
    SELECT %(rid)s, %(ws)s, bal.action_id, %(quantity)s, bal.taken, 'held',
           COALESCE((SELECT jsonb_agg(jsonb_build_object('grant', d.id, 'credits', d.take) ORDER BY d.id)
                     FROM drawn d), '[]'::jsonb),
           %(actor_id)s, %(now)s, %(expires_at)s
    FROM bal
    RETURNING id
), entry AS (
    INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, reservation_id, action_id, quantity,
                                     actor_id, idempotency_key, request_hash, note, created_at)
    SELECT %(ws)s, 'reserve', -bal.taken, bal.balance, res.id, bal.action_id, %(quantity)s, %(actor_id)s,
           %(key)s, %(hash)s, '', %(now)s
    FROM bal, res
    RETURNING id
)
SELECT entry.id, bal.taken, bal.balance, bal.allowance_used, bal.allowance_total, res.id FROM entry, bal, res
"""

ADJUST_DOWN = f"""
WITH {_AMOUNT_GATE}, {_DRAW}, entry AS (
    INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, actor_id, request_hash, note,
                                     created_at)
    SELECT %(ws)s, 'adjust', -bal.taken, bal.balance, %(actor_id)s, '', %(note)s, %(now)s
    FROM bal
    RETURNING id
)
SELECT entry.id, bal.taken, bal.balance FROM entry, bal
"""

#: Lock the balance row and read the reservation (its status may still change: the
#: settle statements below only act on a reservation that is still held).
LOCK_FOR_RESERVATION = """
SELECT b.balance, b.period_start, b.allowance_total, b.allowance_used, b.notified_percent,
       r.id, r.status, r.amount, r.expires_at
FROM credits_creditbalance b
LEFT JOIN credits_reservation r ON r.workspace_id = b.workspace_id AND r.id = %(rid)s
WHERE b.workspace_id = %(ws)s
FOR UPDATE OF b
"""

CAPTURE = f"""
WITH res AS (
    UPDATE credits_reservation SET status = 'captured', settled_at = %(now)s
    WHERE id = %(rid)s AND workspace_id = %(ws)s AND status = 'held'
    RETURNING id, amount, action_id, quantity, actor_id
), entry AS (
    INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, reservation_id, action_id, quantity,
                                     actor_id, request_hash, note, created_at)
    SELECT %(ws)s, 'capture', 0, b.balance, res.id, res.action_id, res.quantity, res.actor_id, '', '', %(now)s
    FROM res JOIN credits_creditbalance b ON b.workspace_id = %(ws)s
    RETURNING id, balance_after
), {_USAGE.format(amount="res.amount", source="res")}
SELECT entry.id, res.amount, entry.balance_after FROM entry, res
"""

# A release gives the held credits back to the grants they came from, unless a grant
# has since expired (a reset) or been revoked: those credits would have gone anyway.
RELEASE = f"""
WITH res AS (
    UPDATE credits_reservation SET status = %(status)s, settled_at = %(now)s
    WHERE id = %(rid)s AND workspace_id = %(ws)s AND status = 'held'
    RETURNING id, amount, allocations, action_id, quantity, actor_id
), parts AS (
    SELECT (a ->> 'grant')::bigint AS grant_id, SUM((a ->> 'credits')::bigint) AS credits
    FROM res, jsonb_array_elements(res.allocations) a GROUP BY 1
), returned AS (
    UPDATE credits_creditgrant g SET remaining = g.remaining + p.credits
    FROM parts p
    WHERE g.id = p.grant_id AND g.workspace_id = %(ws)s AND g.expired_at IS NULL AND g.revoked_at IS NULL
    RETURNING g.bucket, p.credits
), totals AS (
    SELECT COALESCE(SUM(credits), 0)::bigint AS back,
           COALESCE(SUM(credits) FILTER (WHERE bucket IN {ALLOWANCE_SQL_LIST}), 0)::bigint AS back_allowance
    FROM returned
), bal AS (
    UPDATE credits_creditbalance b
    SET balance = b.balance + t.back, allowance_used = GREATEST(b.allowance_used - t.back_allowance, 0),
        updated_at = %(now)s
    FROM totals t, res WHERE b.workspace_id = %(ws)s
    RETURNING b.balance, t.back
), entry AS (
    INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, reservation_id, action_id, quantity,
                                     actor_id, request_hash, note, created_at)
    SELECT %(ws)s, 'release', bal.back, bal.balance, res.id, res.action_id, res.quantity, res.actor_id, '',
           %(note)s, %(now)s
    FROM bal, res
    RETURNING id
)
SELECT entry.id, bal.back, bal.balance FROM entry, bal
"""

#: Lock a batch of workspaces whose credit period has ended (or that never had one): its
#: end is on or before ``now``'s date in the workspace's billing time zone
#: (``%(latest)s``, the day after ``now``'s UTC day, bounds it for the index).
LOCK_DUE = """
SELECT b.workspace_id FROM credits_creditbalance b JOIN workspaces_workspace w ON w.id = b.workspace_id
WHERE b.period_end IS NULL
   OR (b.period_end <= %(latest)s
       AND b.period_end <= (%(now)s::timestamptz AT TIME ZONE w.billing_time_zone)::date)
LIMIT %(batch)s
FOR UPDATE OF b
"""

# The allowance (docs/rules/credits.md#allowance) of each workspace of a ``due`` CTE (its
# ``workspace_id``; its other columns are carried along): the plan in force is the
# subscription's unless it expired, else the free plan; plan credits = flat + per seat x
# licences at this moment (docs/rules/credits.md#licences: the seats paid for, each once,
# as teams defines them in :func:`teams.selectors.licences_sql`; ``%(licensed)s`` binds the
# licensed roles); add-on credits = the active add-ons' monthly credits. ``rule`` indexes
# the period arrays of :func:`credits.allowances._period_table`: 0 = calendar, 1-31 =
# renewal on that day (docs/rules/credits.md#reset).
_ALLOWANCE = f"""
ruled AS (
    SELECT d.*, p.id AS plan_id, p.is_free, p.credits_flat, p.credits_per_seat, s.id AS subscription_id,
           CASE WHEN p.credit_reset = 'renewal' AND s.id IS NOT NULL THEN s.billing_anchor_day ELSE 0 END AS rule
    FROM due d
    LEFT JOIN subscriptions_subscription s ON s.workspace_id = d.workspace_id AND s.status <> 'expired'
    LEFT JOIN subscriptions_plan p
        ON p.id = COALESCE(s.plan_id, (SELECT f.id FROM subscriptions_plan f WHERE f.is_free LIMIT 1))
), allowance AS (
    SELECT r.*, seats.n AS seats,
           COALESCE(r.credits_flat, 0) + COALESCE(r.credits_per_seat, 0) * seats.n AS plan_credits,
           COALESCE(addons.credits, 0) AS addon_credits
    FROM ruled r
    CROSS JOIN LATERAL (SELECT {licences_sql("r.workspace_id")} AS n) seats
    LEFT JOIN LATERAL (
        SELECT SUM(sa.quantity * a.monthly_credits)::bigint AS credits
        FROM subscriptions_subscriptionaddon sa JOIN subscriptions_addon a ON a.id = sa.addon_id
        WHERE sa.subscription_id = r.subscription_id AND a.is_active
    ) addons ON true
)"""

#: The allowance workspace ``%(ws)s`` gets if its credit period starts now: what
#: :data:`RESET_LOCKED` grants, read without writing (:func:`credits.allowances.allowance_of`).
ALLOWANCE_OF = f"""
WITH due AS (SELECT w.id AS workspace_id FROM workspaces_workspace w WHERE w.id = %(ws)s), {_ALLOWANCE}
SELECT a.plan_id, COALESCE(a.is_free, false), a.rule, a.seats, a.plan_credits, a.addon_credits FROM allowance a
"""

# The reset of already-locked workspaces ``%(ids)s``, in one statement:
# expire every live allowance grant (a ledger entry for what was left unused), then
# grant the new period's allowance (:data:`_ALLOWANCE`, at reset time) and move the
# balance row to the new period. ``p_start``/``p_end`` hold the period containing each
# billing day from ``first_day`` for each rule (calendar, then renewal days 1-31),
# computed in Python (domain.credit_periods, :func:`credits.allowances._period_tables`);
# a workspace's billing day is ``now``'s date in its billing time zone, and its new
# allowance expires at midnight of the period's end there
# (docs/rules/billing-calendar.md#credit-periods).
RESET_LOCKED = f"""
WITH due AS (
    SELECT b.workspace_id, b.balance, w.billing_time_zone AS zone,
           ((%(now)s::timestamptz AT TIME ZONE w.billing_time_zone)::date - %(first_day)s::date) * 32 AS table_at
    FROM credits_creditbalance b JOIN workspaces_workspace w ON w.id = b.workspace_id
    WHERE b.workspace_id = ANY(%(ids)s::uuid[])
), {_ALLOWANCE}, info AS (
    SELECT a.workspace_id, a.balance,
           (%(p_start)s::date[])[a.table_at + a.rule + 1] AS start_day,
           (%(p_end)s::date[])[a.table_at + a.rule + 1] AS end_day,
           (%(p_end)s::date[])[a.table_at + a.rule + 1]::timestamp AT TIME ZONE a.zone AS expires_at,
           a.plan_credits, a.addon_credits
    FROM allowance a
), old AS (
    SELECT g.id, g.workspace_id, g.remaining FROM credits_creditgrant g JOIN due d ON d.workspace_id = g.workspace_id
    WHERE g.bucket IN {ALLOWANCE_SQL_LIST} AND g.expired_at IS NULL
), expired AS (
    UPDATE credits_creditgrant g SET remaining = 0, expired_at = %(now)s
    FROM old o WHERE g.id = o.id
    RETURNING g.id, g.workspace_id, o.remaining
), expire_entries AS (
    INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, grant_id, request_hash, note,
                                     created_at)
    SELECT e.workspace_id, 'expire', -e.remaining,
           d.balance - SUM(e.remaining) OVER (PARTITION BY e.workspace_id ORDER BY e.id), e.id, '',
           'unused allowance', %(now)s
    FROM expired e JOIN due d ON d.workspace_id = e.workspace_id
    WHERE e.remaining > 0
    ORDER BY e.workspace_id, e.id
    RETURNING workspace_id, amount
), expired_totals AS (
    SELECT workspace_id, -SUM(amount)::bigint AS total FROM expire_entries GROUP BY workspace_id
), new_grants AS (
    -- Reads expired_totals, itself read from expire_entries: the old allowances are expired
    -- (and their ledger entries written, so ids follow the balance) before the new ones exist.
    INSERT INTO credits_creditgrant (workspace_id, bucket, amount, remaining, period_start, period_end, expires_at,
                                     source, amount_paid_cents, currency, reason, created_at)
    SELECT i.workspace_id, g.bucket, g.amount, g.amount, i.start_day, i.end_day, i.expires_at, '', 0, 'EUR', '',
           %(now)s
    FROM info i
    LEFT JOIN expired_totals x ON x.workspace_id = i.workspace_id
    CROSS JOIN LATERAL (VALUES (1, 'plan_allowance', i.plan_credits),
                               (2, 'addon_allowance', i.addon_credits)) AS g(rank, bucket, amount)
    WHERE g.amount > 0 AND COALESCE(x.total, 0) >= 0
    ORDER BY i.workspace_id, g.rank
    RETURNING id, workspace_id, bucket, amount
), grant_entries AS (
    INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, grant_id, request_hash, note,
                                     created_at)
    SELECT n.workspace_id, 'grant', n.amount,
           d.balance - COALESCE(x.total, 0) + SUM(n.amount) OVER (PARTITION BY n.workspace_id ORDER BY n.id),
           n.id, '', 'allowance', %(now)s
    FROM new_grants n
    JOIN due d ON d.workspace_id = n.workspace_id
    LEFT JOIN expired_totals x ON x.workspace_id = n.workspace_id
    ORDER BY n.workspace_id, n.id
), granted_totals AS (
    SELECT workspace_id, SUM(amount)::bigint AS total FROM new_grants GROUP BY workspace_id
), moved AS (
    UPDATE credits_creditbalance b
    SET balance = b.balance - COALESCE(x.total, 0) + COALESCE(g.total, 0),
        allowance_total = COALESCE(g.total, 0), allowance_used = 0,
        period_start = i.start_day, period_end = i.end_day, notified_percent = 0, updated_at = %(now)s
    FROM info i
    LEFT JOIN expired_totals x ON x.workspace_id = i.workspace_id
    LEFT JOIN granted_totals g ON g.workspace_id = i.workspace_id
    WHERE b.workspace_id = i.workspace_id
    RETURNING b.workspace_id
)
SELECT count(*) FROM moved
"""


def _prepared_statements() -> bool:
    # Off behind a pooler in transaction mode that does not track prepared statements.
    return bool(getattr(settings, "CREDITS_PREPARED_STATEMENTS", True))


def raw_connection() -> Any:
    """Django's psycopg connection, ready for the hot path's prepared statements.

    Django binds parameters client-side and never prepares, so every call would
    re-parse and re-plan the charge statement. The hot path uses server-side binding
    instead, with its statements prepared once per connection; Django's own
    (client-binding) cursors are unaffected.
    """
    connection.ensure_connection()
    raw = connection.connection
    if _prepared_statements() and raw.prepare_threshold is None:
        raw.prepare_threshold = 5
    return raw


@contextmanager
def hot_cursor() -> Iterator[Any]:
    """A server-side-binding cursor on Django's connection; errors are Django's."""
    raw = raw_connection()
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        yield cursor


def prepare() -> bool | None:
    """The ``prepare`` argument of hot statements."""
    return True if _prepared_statements() else None
