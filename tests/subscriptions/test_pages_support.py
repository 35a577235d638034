"""Builders for the subscription page tests: workspaces in each state of seed 001, made
through the real billing and credit services at fixed dates (no test lives here)."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.urls import reverse

from billing import services
from credits import services as credit_services
from credits.models import CreditGrant, DailyUsage, GrantBucket
from invoices.issuing import Buyer, InvoiceDraft, issue_invoices
from invoices.models import InvoiceStatus
from invoices.services import account_balance_credit
from invoices.totals import DraftLine
from subscriptions.models import Subscription
from tests import factories
from tests.factories import VISA_DECLINED, VISA_OK, InvoiceFactory, MembershipFactory, subscribe
from workspaces.models import Membership, Role

#: The subscription started on 2 October 2025 (seed 001's "2 oct. 2025")...
START = datetime(2025, 10, 2, 9, 30, tzinfo=UTC)
#: ...and the pages are looked at ten days later.
NOW = datetime(2025, 10, 12, 10, 0, tzinfo=UTC)


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
    return factories.save_card(workspace, number=number, now=now, exp_year=2030)


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
    subscribe(workspace, plan="team-starter", now=START, extra_seats=5)
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


def cancel(workspace, reason: str, *, now: datetime = NOW) -> Subscription:
    """Cancel the subscription at ``now`` with ``reason``, through billing."""
    preview = services.preview_cancel(workspace=workspace, reason=reason, now=now)
    return services.apply_cancel(
        workspace=workspace, actor=owner_of(workspace), reason=reason, preview=preview, now=now
    ).subscription


def make_past_due(workspace) -> Subscription:
    """The day before ``NOW``, the card on file is declined for a seat invoice: the
    subscription is past due (docs/rules/dunning.md)."""
    yesterday = NOW - timedelta(days=1)
    save_card(workspace, VISA_DECLINED, now=yesterday)
    line = DraftLine(
        kind="seat_proration", description="Team Starter, 1 seat, 21 of 31 days × 15,00 €", amount_cents=1_016
    )
    invoice = InvoiceFactory(
        workspace=workspace, lines=[line], billing_reason="seat_change", issued_at=yesterday
    )
    services.charge_invoice(invoice_id=invoice.pk, attempt=1, now=yesterday)
    return Subscription.objects.get(workspace=workspace)


_bulk = iter(range(1, 10_000_000))


def bulk_invoices(
    workspace, count: int, *, status: str = InvoiceStatus.PAID, first_day: date = date(2024, 1, 1)
):
    """``count`` monthly Team Starter invoices (190,80 € each) issued on ``first_day`` in one
    batch by the issuing service (query-count tests). Paid ones are paid at issue by an
    account credit put on the balance just before: one service call each, whatever ``count``."""
    issued_at = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    batch = next(_bulk)
    if status == InvoiceStatus.PAID:
        account_balance_credit(
            workspace=workspace,
            amount_cents=19_080 * count,
            currency="EUR",
            reason="bulk prepayment",
            source=f"bulk:{batch}",
            now=issued_at,
        )
    line = DraftLine(kind="plan", description="Team Starter, 1 month × 159,00 €", amount_cents=15_900)
    buyer = Buyer.of(workspace)
    issue_invoices(
        [
            InvoiceDraft(
                buyer=buyer, billing_reason="subscription_cycle", source=f"bulk:{batch}:{n}", lines=[line]
            )
            for n in range(count)
        ],
        now=issued_at,
    )


def bulk_ledger(workspace, count: int) -> None:
    """``count`` ledger entries in one INSERT … SELECT generate_series, plus a purchase
    grant per 100 entries and a year of daily usage: a big ledger, read by no page.

    Written directly, bypassing the ledger's invariants (its sum is not the cached
    balance): the volume is the point, and a service call per entry would take minutes."""
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


def seed_001_next_to_another_tenant(workspace, other_workspace) -> dict[str, Membership]:
    """Seed 001's workspace (:func:`seed_001_workspace`), next to another tenant with its
    own paid plan and data."""
    team = seed_001_workspace(workspace)
    save_card(other_workspace, "5555555555554444")
    subscribe(other_workspace, plan="business", now=START)
    bulk_invoices(other_workspace, 3)
    buy_credits(other_workspace, credits=7_000_000, paid_cents=3_500, when=START, source="other:1")
    return team


def url(name, workspace, **query):
    path = reverse(name, args=[workspace.pk])
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


def get(client, membership, name, **query):
    client.force_login(membership.user)
    return client.get(url(name, membership.workspace, **query))
