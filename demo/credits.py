"""Acme's AI credit history (docs/demo.md): 30 days of usage and a free credit grant
(the extra credit pack it bought is in :mod:`demo.acme`'s billing history). Everything goes through the real services with
explicit ``now`` values and fixed idempotency keys, so running it again changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from credits import services
from credits.models import CreditBalance, LedgerEntry
from domain.calendar import day_of
from subscriptions.models import Subscription
from workspaces.models import Membership, Role, Workspace

USAGE_DAYS = 30
#: The share of the allowance left after the demo usage, in basis points: the demo's
#: example card reads "80,61 %" ("22,6 M sur 28 M" on Team Starter).
REMAINING_BP = 8_061
# Relative activity per weekday (Monday first): busy weekdays, quiet weekends.
_WEEKDAY_WEIGHT = (9, 10, 11, 10, 8, 2, 1)


def _pack_size(acme: Workspace) -> int:
    """Credits per extra-credit pack of Acme's plan."""
    subscription = Subscription.objects.filter(workspace=acme).select_related("plan").first()
    plan = subscription.plan if subscription else None
    return int(plan.credit_pack_size) if plan is not None and plan.credit_pack_size else 1_000


def seed_acme_credits(acme: Workspace, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    services.allowance_ensure_current(workspace=acme, now=now)
    actor = (
        Membership.objects.filter(workspace=acme, role=Role.MEMBER).first()
        or Membership.objects.filter(workspace=acme, role=Role.OWNER).get()
    )
    services.credits_grant_free(
        workspace=acme,
        credits=max(_pack_size(acme) // 2, 1),
        reason="Welcome gift",
        source="demo:welcome-credits",
        now=now - timedelta(days=20),
    )
    if LedgerEntry.objects.filter(workspace=acme, idempotency_key__startswith="demo:usage:").exists():
        # The 30 days of usage were written by an earlier seeding: a later day's window
        # would name the same days with other amounts.
        return
    allowance = CreditBalance.objects.get(workspace=acme).allowance_total
    target = allowance * (10_000 - REMAINING_BP) // 10_000
    # Usage days are billing days, read in the workspace's billing time zone.
    zone = acme.billing_zone
    today = day_of(now, zone)
    days = [today - timedelta(days=n) for n in range(USAGE_DAYS - 1, -1, -1)]
    weights = [_WEEKDAY_WEIGHT[d.weekday()] for d in days]
    total_weight = sum(weights)
    left = target
    for index, (day, weight) in enumerate(zip(days, weights, strict=True)):
        credits = left if index == len(days) - 1 else target * weight // total_weight
        left -= credits
        at = datetime.combine(day, time(10, 30), tzinfo=zone).astimezone(UTC)
        at = min(at, now)
        screens = credits // 50  # about a tenth of the usage is prototype screens (5 credits each)
        if screens:
            services.credits_consume(
                workspace=acme,
                actor=actor,
                action="prototype_screen",
                quantity=screens,
                idempotency_key=f"demo:usage:{day.isoformat()}:screens",
                now=at,
            )
        if credits - 5 * screens:
            services.credits_consume(
                workspace=acme,
                actor=actor,
                action="summarize",
                quantity=credits - 5 * screens,
                idempotency_key=f"demo:usage:{day.isoformat()}:actions",
                now=at,
            )
        services.credits_consume(
            workspace=acme,
            actor=actor,
            action="alt_text",
            quantity=3,
            idempotency_key=f"demo:usage:{day.isoformat()}:alt-text",
            now=at,
        )
