"""Builders for the subscription page tests: workspaces in each state of seed 001, made
through the real billing and credit services at fixed dates (no test lives here)."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

from django.db import connection

from billing import services
from credits import services as credit_services
from credits.models import CreditGrant, DailyUsage, GrantBucket
from gateways.local.cards import save_test_card
from invoices.models import Invoice, InvoiceStatus
from subscriptions.models import Price, Subscription, SubscriptionStatus
from tests.factories import MembershipFactory
from workspaces.models import Membership, Role

#: The subscription started on 2 October 2025 (seed 001's "2 oct. 2025")...
START = datetime(2025, 10, 2, 9, 30, tzinfo=UTC)
#: ...and the pages are looked at ten days later.
NOW = datetime(2025, 10, 12, 10, 0, tzinfo=UTC)
VISA_OK = "4242424242424242"


def text(response) -> str:
    """The page's visible text, entities decoded and CLDR's no-break spaces made plain,
    whitespace collapsed: what the assertions read."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = html.unescape(re.sub(r"<[^>]+>", " ", body))
    body = body.replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", body)


def owner_of(workspace) -> Membership:
    return Membership.objects.get(workspace=workspace, role=Role.OWNER)


def price_id(plan: str, interval: str = "month") -> int:
    return Price.objects.get(plan__code=plan, interval=interval, currency="EUR", is_active=True).pk


def add_team(workspace) -> dict[str, Membership]:
    """Seed 001's team: owner, admin, billing admin, two members (5 licences) and a guest."""
    return {
        "owner": owner_of(workspace),
        "admin": MembershipFactory(workspace=workspace, role=Role.ADMIN),
        "billing_admin": MembershipFactory(workspace=workspace, role=Role.BILLING_ADMIN),
        "member": MembershipFactory(workspace=workspace, role=Role.MEMBER),
        "member2": MembershipFactory(workspace=workspace, role=Role.MEMBER),
        "guest": MembershipFactory(workspace=workspace, role=Role.GUEST),
    }


def save_card(workspace, number: str = VISA_OK, *, now: datetime = START):
    return save_test_card(
        workspace=workspace, actor=owner_of(workspace), number=number, exp_month=12, exp_year=2030, now=now
    )


def subscribe(
    workspace,
    plan: str = "team-starter",
    interval: str = "month",
    *,
    extra_seats: int = 0,
    trial: bool = False,
    now: datetime = START,
):
    services.subscription_start_free(workspace=workspace, now=now - timedelta(days=30))
    pid = price_id(plan, interval)
    preview = services.preview_subscribe(
        workspace=workspace, price_id=pid, trial=trial, extra_seats=extra_seats, now=now
    )
    return services.apply_subscribe(
        workspace=workspace,
        actor=owner_of(workspace),
        price_id=pid,
        trial=trial,
        extra_seats=extra_seats,
        preview=preview,
        now=now,
    )


def use_credits(workspace, credits: int, *, now: datetime = NOW, days: int = 5) -> None:
    """Consume ``credits`` spread over the ``days`` days before ``now`` (the usage chart)."""
    actor = owner_of(workspace)
    per_day = credits // days
    for index in range(days):
        amount = per_day if index < days - 1 else credits - per_day * (days - 1)
        moment = now - timedelta(days=days - index, hours=-1)
        while amount:
            chunk = min(amount, 1_000_000)
            credit_services.credits_consume(
                workspace=workspace,
                actor=actor,
                action="summarize",
                quantity=chunk,
                idempotency_key=f"test-{moment.isoformat()}-{amount}",
                now=moment,
            )
            amount -= chunk


def seed_001_workspace(workspace) -> dict[str, Membership]:
    """Team Starter monthly since 2 Oct 2025, 5 extra seats, a Visa on file, 5 of 10 users,
    22 570 000 of 28 000 000 credits left (80,61 %)."""
    team = add_team(workspace)
    save_card(workspace)
    subscribe(workspace, extra_seats=5)
    use_credits(workspace, 5_430_000)
    return team


def buy_credits(workspace, *, credits: int, paid_cents: int, when: datetime, source: str) -> CreditGrant:
    return credit_services.credits_grant_purchased(
        workspace=workspace,
        credits=credits,
        amount_paid_cents=paid_cents,
        currency="EUR",
        source=source,
        now=when,
    )


def gift_credits(workspace, *, credits: int, when: datetime) -> CreditGrant:
    return credit_services.credits_grant_free(
        workspace=workspace, credits=credits, reason="Welcome gift", now=when
    )


def set_status(workspace, status: str, **fields) -> Subscription:
    """Put the subscription in a state the pages must show (set directly: this is a page
    test, the transitions have their own tests)."""
    Subscription.objects.filter(workspace=workspace).update(status=status, **fields)
    return Subscription.objects.get(workspace=workspace)


def make_past_due(workspace) -> Subscription:
    return set_status(workspace, SubscriptionStatus.PAST_DUE, past_due_since=NOW - timedelta(days=1))


_number = iter(range(500_000, 10_000_000))


def bulk_invoices(
    workspace, count: int, *, status: str = InvoiceStatus.PAID, first_day: date = date(2024, 1, 1)
):
    """``count`` finalized invoices, inserted in one statement (query-count tests)."""
    rows = []
    for index in range(count):
        number = next(_number)
        issued = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=index)
        rows.append(
            Invoice(
                workspace=workspace,
                currency="EUR",
                status=status,
                number=f"INV-2024-{number:06d}",
                billing_reason="subscription_cycle",
                source=f"bulk:{number}",
                issued_at=issued,
                paid_at=issued if status == InvoiceStatus.PAID else None,
                subtotal_cents=15_900,
                vat_rate_bp=2_000,
                vat_cents=3_180,
                total_cents=19_080,
                amount_due_cents=19_080,
            )
        )
    Invoice.objects.bulk_create(rows, batch_size=1_000)


def bulk_ledger(workspace, count: int) -> None:
    """``count`` ledger entries in one INSERT … SELECT generate_series, plus a purchase
    grant per 100 entries and a year of daily usage: a big ledger, read by no page."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO credits_ledgerentry
                (workspace_id, kind, amount, balance_after, request_hash, note, created_at)
            SELECT %s, 'consume', -1, 0, '', 'bulk', %s - make_interval(secs => n)
            FROM generate_series(1, %s) AS n
            """,
            [workspace.pk, NOW - timedelta(days=40), count],
        )
        cursor.execute(
            """
            INSERT INTO credits_creditgrant
                (workspace_id, bucket, amount, remaining, source, amount_paid_cents, currency, reason, created_at)
            SELECT %s, %s, 1000000, 0, 'bulk:' || n, 500, 'EUR', '', %s - make_interval(days => n)
            FROM generate_series(1, %s) AS n
            """,
            [workspace.pk, GrantBucket.PURCHASED.value, NOW - timedelta(days=60), max(1, count // 100)],
        )
    DailyUsage.objects.bulk_create(
        [
            DailyUsage(
                workspace=workspace, day=(NOW - timedelta(days=100 + n)).date(), credits_used=n, actions=1
            )
            for n in range(365)
        ]
    )
