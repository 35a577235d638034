"""The credit sweep: allowance resets (docs/rules/credits.md#reset) and the release of
expired holds (docs/rules/credits.md#reserve-capture-release); idempotent, safe to run
twice or late."""

from __future__ import annotations

from datetime import datetime

from credits import allowances, services


def run_credit_sweeps(*, now: datetime) -> dict[str, int]:
    """Give missing balances their allowance, reset ended periods, release stale holds.

    Set-based in SQL for the resets (see :func:`credits.allowances.allowances_reset`);
    ``now`` is passed in so ``billing_tick --at`` and tests can travel in time.
    """
    created = allowances.create_missing_balances(now=now)
    reset = allowances.allowances_reset(now=now)
    expired = services.reservations_expire(now=now)
    return {"credit_balances_created": created, "allowances_reset": reset, "reservations_expired": expired}
