"""The Overview tab, card by card, read in a constant number of queries whatever the
number of invoices, ledger entries or members."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.pages import display
from billing.pages.cards import Access, ChartView, CreditsCard, Extras, OverviewPage, UsersCard
from billing.pages.subscription_selectors import (
    annual_offer,
    load_subscription,
    seat_extras,
    subscription_card,
)
from billing.pages.usage_chart import build_usage_chart
from credits import selectors as credit_selectors
from credits.models import ALLOWANCE_BUCKETS, CreditBalance, CreditGrant, GrantBucket
from credits.sql import spendable
from domain.calendar import day_of
from invoices.models import AccountBalanceEntry
from invoices.selectors import account_balance_cents
from subscriptions import pricing
from subscriptions import selectors as billing_selectors
from subscriptions.models import Plan, Subscription, SubscriptionStatus
from teams import selectors as team_selectors
from workspaces.models import Workspace

#: The credits card in one statement, raw SQL on purpose: the Overview is the hot page and
#: its benchmark (``python -m bench subscription_page``, bar: at most 2.0 × the floor
#: page) fails when this read is an ORM query too (annotated subqueries): ratio 2.21
#: (1.96-2.71 over 6 runs) against 1.67 (1.02-2.18 over 10) with it raw, interleaved on
#: the same machine; in-process it costs 2.0 ms of CPU a call as an ORM query, 0.12 ms raw.
#: "Spendable" is credits' one definition (:func:`credits.sql.spendable`).
CREDITS_CARD_SQL = f"""
SELECT b."allowance_total", b."period_end",
       COALESCE((SELECT SUM(g."remaining") FROM {CreditGrant._meta.db_table} g
                 WHERE g."workspace_id" = b."workspace_id" AND g."bucket" = ANY(%(allowance)s)
                   AND {spendable("g")}), 0) AS allowance_left,
       COALESCE((SELECT SUM(g."remaining") FROM {CreditGrant._meta.db_table} g
                 WHERE g."workspace_id" = b."workspace_id" AND g."bucket" = ANY(%(extra)s)
                   AND {spendable("g")}), 0) AS extra_left,
       COALESCE((SELECT p."show_credit_balance" FROM {Subscription._meta.db_table} s
                 JOIN {Plan._meta.db_table} p ON p."id" = s."plan_id"
                 WHERE s."workspace_id" = b."workspace_id" AND s."status" <> %(expired)s),
                (SELECT f."show_credit_balance" FROM {Plan._meta.db_table} f WHERE f."is_free" LIMIT 1),
                FALSE) AS show_balance,
       (SELECT s."current_period_end" FROM {Subscription._meta.db_table} s
        WHERE s."workspace_id" = b."workspace_id" AND s."status" = %(canceled)s) AS ends_at,
       COALESCE((SELECT e."balance_after_cents" FROM {AccountBalanceEntry._meta.db_table} e
                 WHERE e."workspace_id" = b."workspace_id" ORDER BY e."id" DESC LIMIT 1), 0)
           AS account_balance
FROM {CreditBalance._meta.db_table} b
WHERE b."workspace_id" = %(workspace)s
"""


def credits_card(workspace: Workspace, *, now: datetime) -> tuple[CreditsCard | None, int]:
    """The remaining credits card and the extra credits (:func:`credits_and_balance`)."""
    card, extra, _balance = credits_and_balance(workspace, now=now)
    return card, extra


def credits_and_balance(workspace: Workspace, *, now: datetime) -> tuple[CreditsCard | None, int, int]:
    """The remaining credits card (``None`` when the plan hides the balance,
    docs/rules/credits.md#balance-display) and the extra (purchased and free) credits
    still available, and the account balance (:func:`invoices.selectors.account_balance_cents`,
    read in the same statement): one query.

    The allowance of the current credit period and what is left of it ("22,6 M sur
    28 M"); an allowance whose period has ended (reset pending) counts as none.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            CREDITS_CARD_SQL,
            {
                "workspace": workspace.pk,
                "now": now,
                "allowance": list(ALLOWANCE_BUCKETS),
                "extra": [GrantBucket.PURCHASED.value, GrantBucket.FREE.value],
                "expired": SubscriptionStatus.EXPIRED.value,
                "canceled": SubscriptionStatus.CANCELED.value,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None, 0, account_balance_cents(workspace)
    allowance_total, period_end, allowance_left, extra_left, show_balance, ends_at, balance = row
    extra = int(extra_left)
    if not show_balance:
        return None, extra, int(balance)
    zone = workspace.billing_zone
    period_over = period_end is None or period_end <= day_of(now, zone)
    # A cancelled subscription's last credit period: no reset follows it.
    last_period = ends_at is not None and period_end is not None and day_of(ends_at, zone) <= period_end
    return (
        CreditsCard(
            remaining=int(allowance_left),
            total=0 if period_over else int(allowance_total),
            extra=extra,
            period_end=None if period_over else period_end,
            ends_with_plan=last_period,
        ),
        extra,
        int(balance),
    )


def usage_chart(workspace: Workspace, *, today: date) -> ChartView:
    """The 30-day daily usage line chart (CREDITS' series, one query)."""
    series = credit_selectors.usage_series(workspace, today=today)
    chart = build_usage_chart(
        [(point.day, point.credits) for point in series],
        locale=display.locale(),
        credits_label=_("credits"),
    )
    return ChartView.of(chart)


def overview_page(workspace: Workspace, *, access: Access, now: datetime | None = None) -> OverviewPage:
    """Every card of the Overview tab; members get neither payment method nor credits.

    Four queries for a billing reader (subscription, card, credits with the account
    balance, usage), one for a member, plus one for the annual price of a monthly subscription and one when the
    subscription has add-ons.
    """
    now = now or timezone.now()
    loaded = load_subscription(workspace)
    subscription, licensed = loaded.subscription, loaded.licensed
    seats = team_selectors.summary_for(subscription, licensed=licensed, paid=loaded.paid_seats)
    addons = billing_selectors.addon_lines(subscription) if loaded.has_addons else []
    card = billing_selectors.payment_method_of(workspace) if access.can_view_billing else None
    extra_seats, extra_seats_cents = seat_extras(subscription)
    credits: CreditsCard | None = None
    extra_credits = 0
    chart: ChartView | None = None
    account_credit = 0
    if access.can_view_billing:
        credits, extra_credits, account_credit = credits_and_balance(workspace, now=now)
        # Usage days are billing days, read in the workspace's billing time zone.
        chart = usage_chart(workspace, today=day_of(now, workspace.billing_zone))
    plan_card = subscription_card(
        workspace, subscription, coterm_seats=loaded.coterm_seats, addons=addons, card=card, now=now
    )
    if account_credit > 0:
        plan_card = replace(plan_card, account_credit_cents=account_credit)
    return OverviewPage(
        subscription=plan_card,
        extras=Extras(
            extra_seats=extra_seats,
            extra_seats_cents=extra_seats_cents,
            extra_credits=extra_credits,
            addons=tuple(addons),
            paid_seats=0 if subscription.plan.seats_are_free else loaded.paid_seats,
        ),
        # Every licensed member holds a seat, billed by the plan even before TEAMS records a
        # paid seat for them: the capacity is never below the licences in use.
        users=UsersCard(
            used=seats.licensed,
            capacity=max(
                seats.capacity, pricing.seat_capacity(subscription.plan, licensed, subscription.extra_seats)
            ),
        ),
        annual=annual_offer(subscription, coterm_seats=loaded.coterm_seats, annual=loaded.annual_price),
        credits=credits,
        chart=chart,
    )
