"""What the subscription pages show, card by card (seed 001), read in a constant number
of queries whatever the number of invoices, ledger entries or members.

Composes the other apps' selectors (subscriptions, credits, teams, invoices) and the
pure pricing helpers: each page reads the subscription once and passes it along instead
of letting every selector fetch it again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from babel.numbers import format_percent, get_currency_symbol
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from billing.pages.usage_chart import UsageChart, build_usage_chart
from billing.services.core import Preview
from credits import selectors as credit_selectors
from credits.models import ALLOWANCE_BUCKETS, CreditBalance, CreditGrant, GrantBucket
from domain.periods import Interval
from gateways.base import CardInfo
from invoices import selectors as invoice_selectors
from invoices.formulas import localize_formula
from invoices.models import Invoice
from subscriptions import pricing
from subscriptions import selectors as billing_selectors
from subscriptions.models import AddOn, Plan, Price, Subscription, SubscriptionAddOn, SubscriptionStatus
from teams import selectors as team_selectors
from teams.models import Seat, SeatStatus
from workspaces import permissions
from workspaces.models import Membership, Workspace
from workspaces.permissions import Capability

#: Rows per page of the invoices table and of the credit purchase history (seed 001).
PAGE_SIZE = 10

PER_INTERVAL: dict[str, Promise] = {
    Interval.WEEK.value: _("/week"),
    Interval.MONTH.value: _("/month"),
    Interval.YEAR.value: _("/year"),
}


@dataclass(frozen=True)
class Access:
    """What the member may see and do on these pages (SPEC.md "Roles and permissions")."""

    can_view_billing: bool
    can_manage: bool

    @classmethod
    def of(cls, membership: Membership) -> Access:
        return cls(
            can_view_billing=permissions.allows(membership.role, Capability.VIEW_BILLING),
            can_manage=permissions.allows(membership.role, Capability.MANAGE_BILLING),
        )


@dataclass(frozen=True)
class SubscriptionCard:
    subscription: Subscription
    plan: Plan
    price: Price
    currency: str
    interval: str
    #: The plan's price per period: the base price, or the seat price on per-seat plans.
    plan_price_cents: int
    price_is_per_seat: bool
    period_start: datetime
    period_end: datetime
    next_billing_at: datetime | None
    next_billing_cents: int | None
    auto_renew: bool
    trial_end: datetime | None
    trial_days_left: int
    card: CardInfo | None

    @property
    def is_free(self) -> bool:
        return bool(self.plan.is_free)

    @property
    def status(self) -> str:
        return str(self.subscription.status)

    @property
    def status_label(self) -> str:
        return str(SubscriptionStatus(self.subscription.status).label)

    @property
    def trialing(self) -> bool:
        return self.status == SubscriptionStatus.TRIALING

    @property
    def canceled(self) -> bool:
        return self.status == SubscriptionStatus.CANCELED

    @property
    def past_due(self) -> bool:
        return self.status == SubscriptionStatus.PAST_DUE

    @property
    def access_until(self) -> datetime:
        return self.period_end

    @property
    def per_interval(self) -> Promise:
        return PER_INTERVAL[self.interval]

    @property
    def card_exp_month(self) -> str:
        return f"{self.card.exp_month:02d}" if self.card else ""


@dataclass(frozen=True)
class Extras:
    extra_seats: int
    extra_seats_cents: int
    extra_credits: int
    addons: tuple[pricing.AddOnLine, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.extra_seats or self.extra_credits or self.addons)


@dataclass(frozen=True)
class AnnualOffer:
    percent: int
    amount_cents: int
    currency: str
    annual_price: Price

    @property
    def percent_label(self) -> str:
        """The whole percentage in the active locale: fr "17 %", en "17%"."""
        return str(format_percent(Decimal(self.percent) / 100, locale=_babel_locale()))


@dataclass(frozen=True)
class CreditsCard:
    remaining: int
    total: int
    extra: int
    period_end: date | None

    @property
    def width(self) -> str:
        """The meter's width in percent, for CSS (never localized)."""
        if self.total <= 0:
            return "0"
        return f"{min(100, max(0, self.remaining * 100 / self.total)):.1f}"


@dataclass(frozen=True)
class UsersCard:
    used: int
    capacity: int

    @property
    def width(self) -> str:
        if self.capacity <= 0:
            return "0"
        return f"{min(100, self.used * 100 / self.capacity):.1f}"


@dataclass(frozen=True)
class OverviewPage:
    subscription: SubscriptionCard
    extras: Extras
    users: UsersCard
    annual: AnnualOffer | None = None
    credits: CreditsCard | None = None
    chart: ChartView | None = None


@dataclass(frozen=True)
class BillingPage:
    invoices: Page[Invoice]
    purchases: Page[CreditGrant]
    currency: str
    keep_invoices: str = ""
    keep_purchases: str = ""

    @property
    def currency_symbol(self) -> str:
        return str(get_currency_symbol(self.currency, locale=_babel_locale()))


@dataclass(frozen=True)
class PlanOption:
    plan: Plan
    prices: tuple[Price, ...]
    is_current: bool
    choosable: tuple[Price, ...] = field(default=())

    @property
    def monthly_credits(self) -> int:
        return int(self.plan.credits_flat)


def _babel_locale() -> str:
    return (get_language() or "fr").replace("-", "_")


def _seat_extras(subscription: Subscription) -> tuple[int, int]:
    """Extra seats bought and what they cost per period (each is billed with the
    subscription, filled or not: members beyond them hold paid seats of their own)."""
    plan, price = subscription.plan, subscription.price
    extra = int(subscription.extra_seats)
    if plan.seats_are_free or not extra:
        return extra, 0
    return extra, int(price.seat_amount) * extra


def subscription_card(
    workspace: Workspace,
    subscription: Subscription,
    *,
    coterm_seats: int,
    addons: list[pricing.AddOnLine],
    card: CardInfo | None,
    now: datetime,
) -> SubscriptionCard:
    """The plan card: no query of its own (the renewal amount is computed from prices)."""
    plan, price = subscription.plan, subscription.price
    next_at: datetime | None = None
    next_cents: int | None = None
    renews = (
        not plan.is_free
        and subscription.auto_renew
        and subscription.status not in (SubscriptionStatus.CANCELED, SubscriptionStatus.EXPIRED)
    )
    if renews:
        start = (
            subscription.trial_end
            if subscription.status == SubscriptionStatus.TRIALING and subscription.trial_end
            else subscription.current_period_end
        )
        quote = billing_selectors.renewal_quote(
            workspace=workspace,
            plan=plan,
            price=price,
            extra_seats=subscription.extra_seats,
            coterm_paid_seats=coterm_seats,
            addons=addons,
            start=start,
            anchor_day=subscription.billing_anchor_day,
        )
        next_at, next_cents = quote.at, quote.amount_cents
    trial_days_left = 0
    if subscription.status == SubscriptionStatus.TRIALING and subscription.trial_end:
        trial_days_left = max(0, math.ceil((subscription.trial_end - now) / timedelta(days=1)))
    return _card(
        subscription, next_at=next_at, next_cents=next_cents, trial_days_left=trial_days_left, card=card
    )


def annual_offer(
    subscription: Subscription, *, coterm_seats: int, annual: Price | None | Literal["load"] = "load"
) -> AnnualOffer | None:
    """Seed 001: shown only on a monthly price with an annual price for the same plan;
    savings = 12 × monthly − annual, from the real prices and the current seats."""
    plan, price = subscription.plan, subscription.price
    if (
        plan.is_free
        or price.interval != Interval.MONTH
        or subscription.status
        in (
            SubscriptionStatus.CANCELED,
            SubscriptionStatus.EXPIRED,
        )
    ):
        return None
    if annual == "load":
        annual = billing_selectors.annual_price_for(plan, price.currency)
    if annual is None:
        return None
    billable = pricing.subscription_billable_seats(
        plan, extra_seats=subscription.extra_seats, coterm_paid_seats=coterm_seats
    )
    savings = billing_selectors.savings_between(
        monthly_cents=pricing.period_amount(price, billable),
        annual_cents=pricing.period_amount(annual, billable),
        currency=price.currency,
    )
    if savings.amount_cents <= 0:
        return None
    return AnnualOffer(
        percent=savings.percent,
        amount_cents=savings.amount_cents,
        currency=savings.currency,
        annual_price=annual,
    )


def _columns(model: type[Any], alias: str) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


_PLAN_FREE_FLAG = f'SELECT "show_credit_balance" FROM {Plan._meta.db_table} WHERE "is_free" LIMIT 1'

#: The credits card in one statement (the Overview is the hot page: raw SQL, no ORM
#: compilation). "Spendable" grants are CREDITS' definition (``credit_summary``): not
#: expired, not revoked, not past their end; a test holds both readings equal.
CREDITS_CARD_SQL = f"""
SELECT b."allowance_total", b."period_start", b."period_end",
       COALESCE((SELECT SUM(g."remaining") FROM {CreditGrant._meta.db_table} g
                 WHERE g."workspace_id" = b."workspace_id" AND g."bucket" = ANY(%(allowance)s)
                   AND g."remaining" > 0 AND g."expired_at" IS NULL AND g."revoked_at" IS NULL
                   AND (g."expires_at" IS NULL OR g."expires_at" > %(now)s)), 0) AS allowance_left,
       COALESCE((SELECT SUM(g."remaining") FROM {CreditGrant._meta.db_table} g
                 WHERE g."workspace_id" = b."workspace_id" AND g."bucket" = ANY(%(extra)s)
                   AND g."remaining" > 0 AND g."expired_at" IS NULL AND g."revoked_at" IS NULL
                   AND (g."expires_at" IS NULL OR g."expires_at" > %(now)s)), 0) AS extra_left,
       COALESCE((SELECT p."show_credit_balance" FROM {Subscription._meta.db_table} s
                 JOIN {Plan._meta.db_table} p ON p."id" = s."plan_id"
                 WHERE s."workspace_id" = b."workspace_id" AND s."status" <> %(expired)s),
                ({_PLAN_FREE_FLAG}), FALSE) AS show_balance
FROM {CreditBalance._meta.db_table} b
WHERE b."workspace_id" = %(workspace)s
"""


def credits_card(workspace: Workspace, *, now: datetime) -> tuple[CreditsCard | None, int]:
    """The remaining credits card (``None`` when the plan hides the balance, seed 000) and
    the extra (purchased and free) credits still available: one query.

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
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None, 0
    allowance_total, _period_start, period_end, allowance_left, extra_left, show_balance = row
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


@dataclass(frozen=True)
class ChartView:
    """The usage chart with its SVG coordinates already written out (unlocalized), so the
    template only places them."""

    chart: UsageChart
    points: tuple[tuple[str, str, str], ...]
    y_ticks: tuple[tuple[str, str], ...]
    x_ticks: tuple[tuple[str, str, str], ...]

    @property
    def is_empty(self) -> bool:
        return self.chart.is_empty


def usage_chart(workspace: Workspace, *, today: date) -> ChartView:
    """The 30-day daily usage line chart (CREDITS' series, one query)."""
    series = credit_selectors.usage_series(workspace, today=today)
    chart = build_usage_chart(
        [(point.day, point.credits) for point in series],
        locale=_babel_locale(),
        credits_label=str(_("credits")),
    )
    ticks = chart.x_ticks
    last = len(ticks) - 1
    return ChartView(
        chart=chart,
        points=tuple((f"{p.x:.1f}", f"{p.y:.1f}", p.title) for p in chart.points),
        y_ticks=tuple((f"{t.position:.1f}", t.label) for t in chart.y_ticks),
        x_ticks=tuple(
            (f"{t.position:.1f}", t.label, "start" if i == 0 else "end" if i == last else "middle")
            for i, t in enumerate(ticks)
        ),
    )


@dataclass(frozen=True)
class LoadedSubscription:
    """The subscription and what the cards compute from it, read in one query."""

    subscription: Subscription
    licensed: int
    paid_seats: int
    #: Paid seats co-termed with the subscription: billed by its renewal (seed 002).
    coterm_seats: int
    annual_price: Price | None
    has_addons: bool


_SUBSCRIPTION_FIELDS = Subscription._meta.concrete_fields
_PLAN_FIELDS = Plan._meta.concrete_fields
_PRICE_FIELDS = Price._meta.concrete_fields

#: The subscription, its plan and price, TEAMS' seat counts, the plan's annual price and
#: whether add-ons are on: one statement for every card of the Overview.
LOAD_SUBSCRIPTION_SQL = f"""
SELECT {_columns(Subscription, "s")}, {_columns(Plan, "pl")}, {_columns(Price, "pr")},
       (SELECT COUNT(*) FROM {Membership._meta.db_table} m
         WHERE m."workspace_id" = s."workspace_id" AND m."role" = ANY(%(licensed_roles)s)) AS licensed,
       (SELECT COUNT(*) FROM {Seat._meta.db_table} t
         WHERE t."workspace_id" = s."workspace_id" AND t."status" = %(seat_active)s) AS paid_seats,
       (SELECT COUNT(*) FROM {Seat._meta.db_table} t
         WHERE t."workspace_id" = s."workspace_id" AND t."status" = %(seat_active)s AND t."coterm") AS coterm_seats,
       annual."id", annual."base_amount", annual."seat_amount", annual."credit_pack_amount",
       EXISTS (SELECT 1 FROM {SubscriptionAddOn._meta.db_table} sa
               JOIN {AddOn._meta.db_table} ad ON ad."id" = sa."addon_id"
               WHERE sa."subscription_id" = s."id" AND ad."is_active") AS has_addons
FROM {Subscription._meta.db_table} s
JOIN {Plan._meta.db_table} pl ON pl."id" = s."plan_id"
JOIN {Price._meta.db_table} pr ON pr."id" = s."price_id"
LEFT JOIN LATERAL (
    SELECT a."id", a."base_amount", a."seat_amount", a."credit_pack_amount"
    FROM {Price._meta.db_table} a
    WHERE a."plan_id" = s."plan_id" AND a."interval" = %(year)s AND a."currency" = pr."currency" AND a."is_active"
    ORDER BY a."id" LIMIT 1
) annual ON TRUE
WHERE s."workspace_id" = %(workspace)s
"""


def _instance(model: type[Any], fields: Any, values: Sequence[Any]) -> Any:
    return model.from_db(connection.alias, [field.attname for field in fields], list(values))


def load_subscription(workspace: Workspace) -> LoadedSubscription:
    """The workspace's subscription with its plan and price, its licensed members and paid
    seats (what TEAMS' ``seat_summary`` counts), its plan's annual price and whether it has
    add-ons: one query (three when the workspace predates billing and has no row yet)."""
    with connection.cursor() as cursor:
        cursor.execute(
            LOAD_SUBSCRIPTION_SQL,
            {
                "workspace": workspace.pk,
                "licensed_roles": list(team_selectors.LICENSED_ROLES),
                "seat_active": SeatStatus.ACTIVE.value,
                "year": Interval.YEAR.value,
            },
        )
        row = cursor.fetchone()
    if row is None:
        free = billing_selectors.subscription_of(workspace)
        free.workspace = workspace
        return LoadedSubscription(
            subscription=free,
            licensed=team_selectors.licensed_count(workspace),
            paid_seats=team_selectors.paid_seat_count(workspace),
            coterm_seats=team_selectors.coterm_paid_seat_count(workspace),
            annual_price=None,
            has_addons=False,
        )
    first, second = len(_SUBSCRIPTION_FIELDS), len(_SUBSCRIPTION_FIELDS) + len(_PLAN_FIELDS)
    third = second + len(_PRICE_FIELDS)
    subscription: Subscription = _instance(Subscription, _SUBSCRIPTION_FIELDS, row[:first])
    subscription.plan = _instance(Plan, _PLAN_FIELDS, row[first:second])
    subscription.price = _instance(Price, _PRICE_FIELDS, row[second:third])
    subscription.workspace = workspace
    licensed, paid_seats, coterm_seats, annual_id, annual_base, annual_seat, annual_pack, has_addons = row[
        third:
    ]
    annual_price = None
    if annual_id is not None:
        annual_price = Price(
            pk=annual_id,
            plan=subscription.plan,
            interval=Interval.YEAR,
            currency=subscription.price.currency,
            base_amount=annual_base,
            seat_amount=annual_seat,
            credit_pack_amount=annual_pack,
            is_active=True,
        )
    return LoadedSubscription(
        subscription=subscription,
        licensed=int(licensed),
        paid_seats=int(paid_seats),
        coterm_seats=int(coterm_seats),
        annual_price=annual_price,
        has_addons=bool(has_addons),
    )


def overview_page(workspace: Workspace, *, access: Access, now: datetime | None = None) -> OverviewPage:
    """Every card of the Overview tab; members get neither payment method nor credits.

    Four queries for a billing reader (subscription, card, credits, usage), one for a
    member, plus one when the subscription has add-ons.
    """
    now = now or timezone.now()
    loaded = load_subscription(workspace)
    subscription, licensed = loaded.subscription, loaded.licensed
    seats = team_selectors.summary_for(subscription, licensed=licensed, paid=loaded.paid_seats)
    addons = billing_selectors.addon_lines(subscription) if loaded.has_addons else []
    card = billing_selectors.payment_method_of(workspace) if access.can_view_billing else None
    extra_seats, extra_seats_cents = _seat_extras(subscription)
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


def settings_page(workspace: Workspace) -> OverviewPage:
    """The Settings tab only needs the plan card (status, period, renewal): one query."""
    subscription = billing_selectors.subscription_of(workspace)
    subscription.workspace = workspace
    return OverviewPage(
        subscription=_card_without_renewal(subscription),
        extras=Extras(0, 0, 0, ()),
        users=UsersCard(0, 0),
    )


def _card_without_renewal(subscription: Subscription) -> SubscriptionCard:
    return _card(subscription, next_at=None, next_cents=None, trial_days_left=0, card=None)


def _card(
    subscription: Subscription,
    *,
    next_at: datetime | None,
    next_cents: int | None,
    trial_days_left: int,
    card: CardInfo | None,
) -> SubscriptionCard:
    plan, price = subscription.plan, subscription.price
    per_seat = not price.base_amount and bool(price.seat_amount)
    return SubscriptionCard(
        subscription=subscription,
        plan=plan,
        price=price,
        currency=price.currency,
        interval=price.interval,
        plan_price_cents=int(price.seat_amount if per_seat else price.base_amount),
        price_is_per_seat=per_seat,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        next_billing_at=next_at,
        next_billing_cents=next_cents,
        auto_renew=bool(subscription.auto_renew) and subscription.status != SubscriptionStatus.CANCELED,
        trial_end=subscription.trial_end,
        trial_days_left=trial_days_left,
        card=card,
    )


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def paginate(queryset: QuerySet[Invoice] | QuerySet[CreditGrant], number: str | None) -> Page:  # type: ignore[type-arg]
    """One page (two queries: count and rows); a number past the end shows the last page."""
    return Paginator(queryset, PAGE_SIZE).get_page(_page_number(number))


def invoice_rows(workspace: Workspace) -> QuerySet[Invoice]:
    # The table shows no line: drop the lines prefetch of the invoices' own selector.
    return invoice_selectors.invoices_of(workspace).prefetch_related(None)


def billing_page(
    workspace: Workspace, *, invoices_page: str | None, purchases_page: str | None
) -> BillingPage:
    """The Billing tab: ten invoices and ten credit purchases per page (four queries)."""
    invoices = paginate(invoice_rows(workspace), invoices_page)
    purchases = paginate(credit_selectors.purchase_history(workspace), purchases_page)
    return BillingPage(
        invoices=invoices,
        purchases=purchases,
        currency=workspace.currency,
        keep_invoices=f"&invoices_page={invoices.number}" if invoices.number > 1 else "",
        keep_purchases=f"&purchases_page={purchases.number}" if purchases.number > 1 else "",
    )


def plan_options(workspace: Workspace, subscription: Subscription) -> list[PlanOption]:
    """The plan picker: public plans with their prices per interval (two queries).

    A paid subscription keeps its billing period when it changes plan (the switch to
    annual is its own operation), so only the price on the current interval is
    choosable; from Free, any paid price is.
    """
    options = []
    current_interval = None if subscription.plan.is_free else subscription.price.interval
    for plan in billing_selectors.plan_catalog(workspace):
        prices: tuple[Price, ...] = tuple(plan.offered_prices)  # type: ignore[attr-defined]
        is_current = plan.pk == subscription.plan_id
        if plan.is_free or is_current:
            choosable: tuple[Price, ...] = ()
        elif current_interval is None:
            choosable = prices
        else:
            choosable = tuple(p for p in prices if p.interval == current_interval)
        options.append(PlanOption(plan=plan, prices=prices, is_current=is_current, choosable=choosable))
    return options


# --- previews as people read them -----------------------------------------------------------


@dataclass(frozen=True)
class PreviewLine:
    formula: str
    amount_cents: int


def preview_lines(preview: Preview) -> list[PreviewLine]:
    return [
        PreviewLine(formula=localize_formula(line.description), amount_cents=line.amount_cents)
        for line in preview.lines
    ]
