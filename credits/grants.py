"""Grants and the allowance on the AI credit ledger (docs/rules/credits.md#grants,
docs/rules/credits.md#allowance, docs/rules/credits.md#plan-changes-and-the-allowance).

Purchased and free credits never expire; the plan allowance of a credit period is
granted at its reset and, within the period, only ever raised by a paid upgrade, never
beyond the largest plan held in it. Every write locks the workspace's balance row first
(:mod:`credits.ledger`) and appends to the ledger; the balance stays its sum.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F

from credits import allowances, errors, ledger, sql
from credits.models import (
    ALLOWANCE_BUCKETS,
    CreditBalance,
    CreditGrant,
    EntryKind,
    GrantBucket,
    LedgerEntry,
)
from domain.calendar import day_of, midnight
from domain.checks import is_int
from workspaces.models import User, Workspace

#: The Celery task that emails a recorded allowance notice (:mod:`credits.tasks`).
SEND_CREDIT_NOTICE_TASK = "credits.tasks.send_credit_notice"

#: How long credits stay held for an AI call before the sweep releases them.
RESERVATION_TTL = timedelta(minutes=10)
MAX_IDEMPOTENCY_KEY_LENGTH = 255


# --- grants ------------------------------------------------------------------------------


def _check_credits(credits: int) -> None:
    if not is_int(credits) or credits <= 0:
        raise errors.InvalidCredits()


def _grant_never_expiring(
    *,
    workspace: Workspace,
    state: ledger.State,
    bucket: str,
    credits: int,
    now: datetime,
    kind: str = EntryKind.GRANT,
    actor: User | None = None,
    note: str = "",
    **fields: Any,
) -> tuple[CreditGrant, LedgerEntry]:
    """The one path of the grants that never expire (docs/rules/credits.md#grants):
    purchased and free credits, and an operator's positive adjustment. Writes the grant
    and its ledger entry; the caller holds the balance row's lock (``state``)."""
    grant = CreditGrant.objects.create(
        workspace=workspace,
        bucket=bucket,
        amount=credits,
        remaining=credits,
        granted_by=actor,
        created_at=now,
        **fields,
    )
    entry = ledger.append_entry(
        workspace=workspace,
        state=state,
        amount=credits,
        kind=kind,
        grant=grant,
        actor=actor,
        now=now,
        note=note,
    )
    return grant, entry


def _grant_once(*, workspace: Workspace, source: str, now: datetime, **grant: Any) -> CreditGrant:
    """A never-expiring grant; a non-empty ``source`` makes it idempotent (a second call
    returns the first grant unchanged)."""
    state = ledger.lock_balance(workspace, now)
    if source:
        existing = CreditGrant.objects.filter(workspace=workspace, source=source).first()
        if existing is not None:
            return existing
    created, _entry = _grant_never_expiring(workspace=workspace, state=state, now=now, source=source, **grant)
    return created


@transaction.atomic
def credits_grant_purchased(
    *, workspace: Workspace, credits: int, amount_paid_cents: int, currency: str, source: str, now: datetime
) -> CreditGrant:
    """Add purchased credits: they never expire and are used after the allowance
    (docs/rules/credits.md#grants).

    Idempotent on ``(workspace, source)``, e.g. ``"invoice:42"``: a second call returns
    the first grant unchanged.
    """
    _check_credits(credits)
    if not is_int(amount_paid_cents) or amount_paid_cents < 0:
        raise errors.InvalidCredits()
    source = source.strip()
    if not source:
        raise errors.SourceRequired()
    return _grant_once(
        workspace=workspace,
        bucket=GrantBucket.PURCHASED,
        credits=credits,
        source=source,
        now=now,
        amount_paid_cents=amount_paid_cents,
        currency=currency,
    )


@transaction.atomic
def credits_grant_free(
    *,
    workspace: Workspace,
    credits: int,
    reason: str,
    actor: User | None = None,
    now: datetime,
    source: str = "",
) -> CreditGrant:
    """Offer credits for free (a gesture, a promotion): never expire, amount paid 0.

    A non-empty ``source`` makes the grant idempotent like a purchase.
    """
    _check_credits(credits)
    reason = reason.strip()
    if not reason:
        raise errors.ReasonRequired()
    return _grant_once(
        workspace=workspace,
        bucket=GrantBucket.FREE,
        credits=credits,
        source=source.strip(),
        now=now,
        actor=actor,
        note=reason,
        reason=reason[:255],
    )


@transaction.atomic
def credits_adjust(
    *, workspace: Workspace, actor: User | None, credits: int, reason: str, now: datetime
) -> LedgerEntry:
    """An operator's correction with a reason (docs/rules/credits.md#ledger): positive adds
    a free grant, negative takes credits back in consumption order (never below zero)."""
    if not is_int(credits) or credits == 0:
        raise errors.InvalidCredits()
    reason = reason.strip()
    if not reason:
        raise errors.ReasonRequired()
    state = ledger.lock_balance(workspace, now)
    if credits > 0:
        _grant, entry = _grant_never_expiring(
            workspace=workspace,
            state=state,
            bucket=GrantBucket.FREE,
            credits=credits,
            now=now,
            kind=EntryKind.ADJUST,
            actor=actor,
            note=reason,
            reason=reason[:255],
        )
        return entry
    wanted = -credits
    if wanted > state.balance:
        raise errors.InsufficientCredits(balance=state.balance, required=wanted)
    with sql.hot_cursor() as cursor:
        cursor.execute(
            sql.ADJUST_DOWN,
            {
                "ws": workspace.pk,
                "now": now,
                "cost": wanted,
                "actor_id": actor.pk if actor else None,
                "note": reason[:255],
            },
            prepare=sql.prepare(),
        )
        row = cursor.fetchone()
    if row is None:
        raise errors.InsufficientCredits(balance=state.balance, required=wanted)
    return LedgerEntry.objects.get(pk=row[0])


@transaction.atomic
def credits_revoke_purchased(*, workspace: Workspace, source: str, now: datetime) -> int:
    """A refunded purchase: take back what is still unconsumed of that grant.

    Returns the credits taken back (0 if none are left, the grant was already revoked,
    or no grant has that source). Credits already used stay used.
    """
    return _take_unused(workspace=workspace, source=source, now=now, note=f"refund of {source.strip()}")


@transaction.atomic
def credits_hold_purchased(*, workspace: Workspace, source: str, now: datetime) -> int:
    """A purchase whose payment is disputed: its unconsumed credits are held (out of the
    balance) until the dispute closes (docs/rules/credits.md#disputed-purchases). Returns
    how many were held."""
    return _take_unused(workspace=workspace, source=source, now=now, note=f"dispute hold of {source.strip()}")


@transaction.atomic
def credits_release_hold(*, workspace: Workspace, source: str, credits: int, now: datetime) -> int:
    """The dispute was won: the credits held from that purchase are spendable again."""
    if not is_int(credits) or credits <= 0:
        return 0
    state = ledger.lock_balance(workspace, now)
    grant = _purchased_grant(workspace, source, revoked=True)
    if grant is None:
        return 0
    CreditGrant.objects.filter(pk=grant.pk).update(remaining=credits, revoked_at=None)
    ledger.append_entry(
        workspace=workspace,
        state=state,
        amount=credits,
        kind=EntryKind.ADJUST,
        grant=grant,
        now=now,
        note=f"dispute won for {grant.source}",
    )
    return credits


def _purchased_grant(workspace: Workspace, source: str, *, revoked: bool) -> CreditGrant | None:
    """The grant a purchase (or any grant but an allowance) made, by its source."""
    return (
        CreditGrant.objects.filter(workspace=workspace, source=source.strip(), revoked_at__isnull=not revoked)
        .exclude(bucket__in=(GrantBucket.PLAN_ALLOWANCE, GrantBucket.ADDON_ALLOWANCE))
        .first()
    )


def _take_unused(*, workspace: Workspace, source: str, now: datetime, note: str) -> int:
    state = ledger.lock_balance(workspace, now)
    grant = _purchased_grant(workspace, source, revoked=False)
    if grant is None:
        return 0
    taken = grant.remaining
    CreditGrant.objects.filter(pk=grant.pk).update(remaining=0, revoked_at=now)
    if taken:
        ledger.append_entry(
            workspace=workspace,
            state=state,
            amount=-taken,
            kind=EntryKind.ADJUST,
            grant=grant,
            now=now,
            note=note,
        )
    return taken


# --- allowance ----------------------------------------------------------------------------


@transaction.atomic
def allowance_ensure_current(*, workspace: Workspace, now: datetime) -> None:
    """Grant the current credit period's allowance if the workspace lacks it (idempotent).

    docs/rules/credits.md#reset: a new workspace has its allowance from the moment it
    exists (Free: 10).
    """
    ledger.lock_balance(workspace, now)


@transaction.atomic
def allowance_period_follow(*, workspace: Workspace, now: datetime) -> bool:
    """The renewal day moved with no new period starting (a trial extended,
    docs/rules/lifecycle.md#extending-a-trial): the current credit period becomes the one
    the new renewal day gives, so it ends on that day; the live allowance grants expire
    then. Nothing is granted and what was used still counts. A calendar plan's period
    does not move. Returns whether the period moved."""
    zone = workspace.billing_zone
    with sql.hot_cursor() as cursor:
        state = ledger.lock(cursor, workspace.pk, now, zone=zone)
        start, end = allowances.allowance_of(workspace).period(day_of(now, zone))
        if (start, end) == (state.period_start, state.period_end):
            return False
        cursor.execute(
            "UPDATE credits_creditbalance SET period_start = %s, period_end = %s, updated_at = %s "
            "WHERE workspace_id = %s",
            [start, end, now, workspace.pk],
        )
    CreditGrant.objects.filter(
        workspace=workspace, bucket__in=ALLOWANCE_BUCKETS, expired_at__isnull=True
    ).update(period_start=start, period_end=end, expires_at=midnight(end, zone))
    return True


@transaction.atomic
def allowance_reset_for_plan_change(*, workspace: Workspace, now: datetime) -> None:
    """Bring the allowance in line with the subscription billing has just changed: a plan
    change, a subscription start, a switch to annual, an expiry
    (docs/rules/credits.md#plan-changes-and-the-allowance).

    * Within the current credit period (the new terms give the same period): an
      **upgrade** raises the period's allowance to the new plan's at once, and what was
      used this period still counts; a **downgrade** keeps the allowance until the next
      reset. Each live allowance grant holds the largest allowance of its bucket granted
      this period (``amount``) and what is left of it (``remaining``; used = amount −
      remaining, held credits included): raising it to a larger allowance adds the
      difference to both, with one ledger entry, and nothing else ever changes it before
      the reset. So remaining = new allowance − used, and however many changes the period
      holds it never yields more than the largest plan held in it; calling this twice
      grants nothing more.
    * The terms start another credit period (a subscription start or a switch to annual
      moves the renewal day; a calendar plan to a renewal one) or the workspace falls back
      to Free (an expiry, docs/rules/credits.md#reset): the current allowance expires and
      the new period's is granted, as at a reset.

    docs/rules/credits.md#reset: seat count changes alone wait for the next reset.
    """
    with sql.hot_cursor() as cursor:
        state = ledger.lock(cursor, workspace.pk, now, zone=workspace.billing_zone)
        target = allowances.allowance_of(workspace)
        period = target.period(day_of(now, workspace.billing_zone))
        if target.free or period != (state.period_start, state.period_end):
            allowances.reset_locked(cursor, [workspace.pk], now)
            return
    _raise_allowance(workspace, state, target, now)


def _raise_allowance(
    workspace: Workspace, state: ledger.State, target: allowances.Allowance, now: datetime
) -> None:
    """Raise each live allowance grant of the current period to ``target``'s amount when
    that is larger (a missing one is granted); the balance row is locked (``state``).
    Grants are never lowered: a smaller allowance waits for the reset."""
    assert state.period_start is not None
    assert state.period_end is not None
    live = {
        grant.bucket: grant
        for grant in CreditGrant.objects.filter(
            workspace=workspace, bucket__in=ALLOWANCE_BUCKETS, expired_at__isnull=True
        )
    }
    wanted = {
        GrantBucket.PLAN_ALLOWANCE: target.plan_credits,
        GrantBucket.ADDON_ALLOWANCE: target.addon_credits,
    }
    for bucket, credits in wanted.items():
        grant = live.get(bucket)
        more = credits - (grant.amount if grant is not None else 0)
        if more <= 0:
            continue
        if grant is None:
            grant = CreditGrant.objects.create(
                workspace=workspace,
                bucket=bucket,
                amount=credits,
                remaining=credits,
                period_start=state.period_start,
                period_end=state.period_end,
                expires_at=midnight(state.period_end, workspace.billing_zone),
                created_at=now,
            )
        else:
            CreditGrant.objects.filter(pk=grant.pk).update(
                amount=F("amount") + more, remaining=F("remaining") + more
            )
        ledger.append_entry(
            workspace=workspace,
            state=state,
            amount=more,
            kind=EntryKind.GRANT,
            grant=grant,
            now=now,
            note="allowance raised by a plan change",
        )
        state = replace(state, balance=state.balance + more, allowance_total=state.allowance_total + more)
    CreditBalance.objects.filter(workspace=workspace).update(allowance_total=state.allowance_total)
