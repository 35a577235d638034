"""The Overview tab, card by card, read in a constant number of queries whatever the
number of invoices, ledger entries or members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from django.db.models import BigIntegerField, F, Func, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
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
from subscriptions import pricing
from subscriptions import selectors as billing_selectors
from subscriptions.models import Plan, Subscription, SubscriptionStatus
from teams import selectors as team_selectors
from workspaces.models import Workspace

EXTRA_BUCKETS = (GrantBucket.PURCHASED.value, GrantBucket.FREE.value)


def _spendable(buckets: Sequence[str], now: datetime) -> Coalesce:
    """What is left of the balance row's workspace's spendable grants in ``buckets``.

    "Spendable" is CREDITS' definition (``credit_summary``): not expired, not revoked,
    not past their end; a test holds both readings equal.
    """
    grants = CreditGrant.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        workspace_id=OuterRef("workspace_id"),
        bucket__in=buckets,
        remaining__gt=0,
        expired_at__isnull=True,
        revoked_at__isnull=True,
    )
    total = Func(F("remaining"), function="SUM", output_field=BigIntegerField())
    return Coalesce(Subquery(grants.order_by().annotate(total=total).values("total")), Value(0))


def _shows_balance() -> Coalesce:
    """The plan in force shows the balance: the subscription's unless it expired, else Free's."""
    subscribed = (
        Subscription.objects.filter(workspace_id=OuterRef("workspace_id"))
        .exclude(status=SubscriptionStatus.EXPIRED)
        .values("plan__show_credit_balance")[:1]
    )
    free = Plan.objects.filter(is_free=True).values("show_credit_balance")[:1]
    return Coalesce(Subquery(subscribed), Subquery(free), Value(False))


def credits_card(workspace: Workspace, *, now: datetime) -> tuple[CreditsCard | None, int]:
    """The remaining credits card (``None`` when the plan hides the balance,
    docs/rules/credits.md#balance-display) and the extra (purchased and free) credits
    still available: one query.

    The allowance of the current credit period and what is left of it ("22,6 M sur
    28 M"); an allowance whose period has ended (reset pending) counts as none.
    """
    row = (
        CreditBalance.objects.filter(workspace=workspace)
        .annotate(
            allowance_left=_spendable(ALLOWANCE_BUCKETS, now),
            extra_left=_spendable(EXTRA_BUCKETS, now),
            show_balance=_shows_balance(),
        )
        .order_by()
        .values_list("allowance_total", "period_end", "allowance_left", "extra_left", "show_balance")[:1]
    )
    found = next(iter(row), None)
    if found is None:
        return None, 0
    allowance_total, period_end, allowance_left, extra_left, show_balance = found
    extra = int(extra_left)
    if not show_balance:
        return None, extra
    period_over = period_end is None or period_end <= now.astimezone(UTC).date()
    return (
        CreditsCard(
            remaining=int(allowance_left),
            total=0 if period_over else int(allowance_total),
            extra=extra,
            period_end=None if period_over else period_end,
        ),
        extra,
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

    Four queries for a billing reader (subscription, card, credits, usage), one for a
    member, plus one for the annual price of a monthly subscription and one when the
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
    if access.can_view_billing:
        credits, extra_credits = credits_card(workspace, now=now)
        chart = usage_chart(workspace, today=now.astimezone(UTC).date())  # usage days are UTC days
    return OverviewPage(
        subscription=subscription_card(
            workspace, subscription, coterm_seats=loaded.coterm_seats, addons=addons, card=card, now=now
        ),
        extras=Extras(
            extra_seats=extra_seats,
            extra_seats_cents=extra_seats_cents,
            extra_credits=extra_credits,
            addons=tuple(addons),
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
