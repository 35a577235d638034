"""What the subscription pages show, card by card: plain values the templates place.

The selectors fill these; the words and numbers they show are formatted by
:mod:`billing.pages.display` (or the templates' ``formatting`` filters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.paginator import Page
from django.utils.functional import Promise

from billing.pages import display
from billing.pages.usage_chart import UsageChart
from billing.services.core import Preview
from credits.models import CreditGrant
from gateways.base import CardInfo
from invoices.models import Invoice
from subscriptions import pricing
from subscriptions.models import Plan, Price, Subscription, SubscriptionStatus
from workspaces import permissions
from workspaces.models import Membership
from workspaces.permissions import Capability


@dataclass(frozen=True)
class Access:
    """What the member may see and do on these pages (docs/rules/roles.md#capability-matrix)."""

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
    #: The card on file ends within its notice window (docs/rules/payments.md#card-expiry-notices).
    card_expires_soon: bool = False
    #: Money the workspace holds on its account balance, taken off its next invoices
    #: (docs/rules/invoices.md#account-balance); 0 when the reader may not see billing.
    account_credit_cents: int = 0

    @property
    def next_billing_due_cents(self) -> int | None:
        """What the next bill will charge once the account credit is taken off it."""
        if self.next_billing_cents is None:
            return None
        return max(0, self.next_billing_cents - self.account_credit_cents)

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
        return display.per_interval(self.interval)

    @property
    def card_exp_month(self) -> str:
        return display.card_month(self.card.exp_month) if self.card else ""


@dataclass(frozen=True)
class Extras:
    extra_seats: int
    extra_seats_cents: int
    extra_credits: int
    addons: tuple[pricing.AddOnLine, ...]
    #: Paid seats of members beyond the included and extra seats (docs/rules/plans.md#seats).
    paid_seats: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.extra_seats or self.extra_credits or self.addons or self.paid_seats)


@dataclass(frozen=True)
class AnnualOffer:
    percent: int
    amount_cents: int
    currency: str
    annual_price: Price

    @property
    def percent_label(self) -> str:
        """The whole percentage in the active locale: fr "17 %", en "17%"."""
        return display.whole_percent(self.percent)


@dataclass(frozen=True)
class CreditsCard:
    remaining: int
    total: int
    extra: int
    period_end: date | None
    #: The subscription is cancelled: the allowance ends with its period, no reset follows.
    ends_with_plan: bool = False

    @property
    def width(self) -> str:
        """The meter's width in percent, for CSS (never localized)."""
        return display.meter_width(self.remaining, self.total)


@dataclass(frozen=True)
class UsersCard:
    used: int
    capacity: int

    @property
    def width(self) -> str:
        return display.meter_width(self.used, self.capacity)


@dataclass(frozen=True)
class ChartView:
    """The usage chart with its SVG coordinates already written out (unlocalized), so the
    template only places them."""

    chart: UsageChart
    points: tuple[tuple[str, str, str], ...]
    y_ticks: tuple[tuple[str, str], ...]
    x_ticks: tuple[tuple[str, str, str], ...]

    @classmethod
    def of(cls, chart: UsageChart) -> ChartView:
        last = len(chart.x_ticks) - 1
        svg = display.svg_number
        return cls(
            chart=chart,
            points=tuple((svg(p.x), svg(p.y), p.title) for p in chart.points),
            y_ticks=tuple((svg(t.position), t.label) for t in chart.y_ticks),
            x_ticks=tuple(
                (svg(t.position), t.label, "start" if i == 0 else "end" if i == last else "middle")
                for i, t in enumerate(chart.x_ticks)
            ),
        )

    @property
    def is_empty(self) -> bool:
        return self.chart.is_empty


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
    #: The account balance: money credited to the workspace, taken off its next invoices.
    account_credit_cents: int = 0
    keep_invoices: str = ""
    keep_purchases: str = ""

    @property
    def currency_symbol(self) -> str:
        return display.currency_symbol(self.currency)


@dataclass(frozen=True)
class PlanOption:
    plan: Plan
    prices: tuple[Price, ...]
    is_current: bool
    choosable: tuple[Price, ...] = field(default=())

    @property
    def monthly_credits(self) -> int:
        return int(self.plan.credits_flat)


@dataclass(frozen=True)
class CustomizeSummary:
    """The live cost summary of the customization form: the preview, or why there is none."""

    preview: Preview | None
    error: str | None
    extra_seats: int
    credit_packs: int
    credits: int

    @property
    def lines(self) -> list[display.PreviewLine]:
        return display.preview_lines(self.preview) if self.preview else []
