"""What every billing service shares: previews, their fingerprint, the locked context.

A :class:`Preview` is the exact cost summary a user confirms. ``apply_*`` recomputes it
inside the transaction that changes the subscription (its row locked), and refuses to go
on when the fingerprint differs: what is charged is what was previewed, to the cent.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, tzinfo
from types import MappingProxyType
from typing import Any

from django.db import IntegrityError, transaction

from domain.calendar import day_of, midnight
from domain.periods import Interval, add_interval
from domain.seat_plan import SeatState
from gateways.base import get_gateway
from invoices.models import Invoice
from invoices.selectors import account_balance_cents, vat_context
from invoices.totals import DraftLine, Totals, compute_totals
from subscriptions import errors, pricing, selectors
from subscriptions.models import (
    Channel,
    EventKind,
    Plan,
    Price,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
)
from teams.selectors import licensed_count, seat_states
from workspaces.errors import PermissionDenied
from workspaces.models import Membership, Workspace
from workspaces.permissions import REFUSAL_MESSAGES, Capability
from workspaces.services import require_capability


@dataclass(frozen=True)
class AddOnChange:
    """One add-on of the catalog before and after a change."""

    code: str
    name: str
    monthly_credits: int
    before: int
    after: int


@dataclass(frozen=True)
class ChangeEffects:
    """What an operation changes besides money (docs/rules/lifecycle.md#previews): the
    extra seats kept, reduced or dropped, the paid seats and their price afterwards, the
    add-ons, and the monthly credit allowance before and after."""

    #: The subscription's interval afterwards: what ``seat_amount_cents`` is per.
    interval: str
    extra_seats_before: int
    extra_seats_after: int
    #: Extra seats the new plan cannot take (beyond its cap, or it sells none).
    extra_seats_dropped: int
    #: What one billable seat costs per period afterwards (extra or co-termed paid seat).
    seat_amount_cents: int
    paid_seats_before: int
    #: The paid seats afterwards: ``(interval, price per period, count)``, one entry per
    #: interval and price.
    paid_seats_after: tuple[tuple[str, int, int], ...]
    paid_seats_ended: int
    allowance_before: int
    allowance_after: int
    #: When the allowance afterwards takes effect: None at once, else on this day (the
    #: next reset; the current allowance is kept until then).
    allowance_from: date | None
    addons: tuple[AddOnChange, ...] = ()

    @property
    def paid_seats_count_after(self) -> int:
        return sum(count for _, _, count in self.paid_seats_after)


@dataclass(frozen=True)
class Preview:
    """The cost summary of one billing operation, as the user confirms it."""

    action: str
    workspace_id: uuid.UUID
    currency: str
    lines: tuple[DraftLine, ...]
    totals: Totals
    #: Charged now, after VAT and the account credit applied (0 for a net credit).
    total_due_now_cents: int
    #: Money put on the account balance when the net is a credit (downgrade, fewer seats).
    account_credit_cents: int
    next_renewal_cents: int | None
    next_renewal_at: datetime | None
    fingerprint: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: What the subscription looks like afterwards (plan, interval, status, period end…).
    outcome: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: The idempotency token minted with this preview: confirming it is one operation,
    #: however many times the confirmation arrives (docs/rules/lifecycle.md#one-operation-per-confirmation).
    token: str = ""
    #: Seats, add-ons and allowance before and after (None: the operation changes none).
    effects: ChangeEffects | None = None

    @property
    def confirmation(self) -> str:
        """What a confirmation form sends back: the fingerprint and the token."""
        return confirmation_of(self.fingerprint, self.token)


@dataclass(frozen=True)
class PaymentOutcome:
    succeeded: bool
    message: str
    reference: str = ""
    #: The last dunning retry failed: the caller expires the subscription
    #: (:func:`billing.services.collection.collect`).
    dunning_exhausted: bool = False
    #: The bank asks the payer to authenticate (3-D Secure): the invoice stays open and
    #: the payer completes it on the invoice's authentication page.
    requires_action: bool = False
    invoice_id: int | None = None


@dataclass(frozen=True)
class ApplyResult:
    subscription: Subscription
    preview: Preview
    invoice: Invoice | None = None
    account_credit_cents: int = 0
    payment: PaymentOutcome | None = None
    message: str = ""


@dataclass
class Context:
    """What a computation reads, loaded once inside the transaction."""

    workspace: Workspace
    subscription: Subscription
    licensed: int
    #: The active paid seats (teams), read with the licences.
    seats: tuple[SeatState, ...]
    addons: list[pricing.AddOnLine]
    balance_cents: int
    vat_rate_bp: int
    reverse_charge: bool
    has_payment_method: bool
    now: datetime

    @property
    def zone(self) -> tzinfo:
        """The workspace's billing time zone: every day below is read in it."""
        return self.workspace.billing_zone

    @property
    def today(self) -> date:
        return day_of(self.now, self.zone)

    @property
    def coterm_paid_seats(self) -> int:
        """Paid seats co-termed with the subscription: billed by its invoices."""
        return sum(1 for seat in self.seats if seat.coterm)

    @property
    def billable_seats(self) -> int:
        """The seats the subscription bills as it stands (extra + co-termed paid seats)."""
        return pricing.subscription_billable_seats(
            self.subscription.plan,
            extra_seats=self.subscription.extra_seats,
            coterm_paid_seats=self.coterm_paid_seats,
        )


@dataclass
class Change:
    """A computed operation: its lines, how it changes the subscription, what it records."""

    action: str
    params: dict[str, Any]
    lines: list[DraftLine]
    billing_reason: str | None
    event_kind: str
    #: Field values the subscription takes (plan, price, status, period…).
    updates: dict[str, Any]
    resets_allowance: bool = False
    #: The renewal day moves but no new credit period starts (a trial extended): the
    #: current credit period follows it (:func:`credits.services.allowance_period_follow`).
    moves_credit_period: bool = False
    source: str | None = None
    event_data: dict[str, Any] = field(default_factory=dict)
    #: Set when the operation ends the paid subscription (fallback to Free).
    expires: bool = False
    #: The seats the subscription bills once the change is applied (the paid seats as
    #: :func:`domain.seat_plan.plan_seats` leaves them); None: as they stand.
    billable_after: int | None = None
    #: The change alters plan, interval or extra seats: the paid seat rows are matched to
    #: it (:func:`teams.services.seats_sync`) in the same transaction.
    syncs_seats: bool = False
    #: The add-ons the subscription has afterwards, quantities included (None: kept).
    addons_after: tuple[pricing.AddOnLine, ...] | None = None
    #: What the preview shows besides money.
    effects: ChangeEffects | None = None


def check_manager(actor: Membership, workspace: Workspace) -> None:
    """Owners and admins of *this* workspace only (docs/rules/roles.md#capability-matrix)."""
    if actor.workspace_id != workspace.pk:
        raise PermissionDenied(REFUSAL_MESSAGES[Capability.MANAGE_BILLING])
    require_capability(actor, Capability.MANAGE_BILLING)


def check_actor(actor: Membership | None, workspace: Workspace) -> None:
    """System operations (sweeps, operators) pass no actor; a member must be a manager."""
    if actor is not None:
        check_manager(actor, workspace)


def load_context(workspace: Workspace, subscription: Subscription, now: datetime) -> Context:
    vat_rate_bp, reverse_charge = vat_context(workspace)
    return Context(
        workspace=workspace,
        subscription=subscription,
        licensed=licensed_count(workspace),
        seats=seat_states(workspace),
        addons=selectors.addon_lines(subscription),
        balance_cents=account_balance_cents(workspace),
        vat_rate_bp=vat_rate_bp,
        reverse_charge=reverse_charge,
        has_payment_method=get_gateway().default_payment_method(workspace) is not None,
        now=now,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Plan | Price):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _subscription_state(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "plan": subscription.plan_id,
        "price": subscription.price_id,
        "status": subscription.status,
        "start": subscription.current_period_start,
        "end": subscription.current_period_end,
        "anchor": subscription.billing_anchor_day,
        "trial_end": subscription.trial_end,
        "auto_renew": subscription.auto_renew,
        "extra_seats": subscription.extra_seats,
    }


def fingerprint(ctx: Context, change: Change, totals: Totals) -> str:
    payload = {
        "action": change.action,
        "params": change.params,
        "subscription": _subscription_state(ctx.subscription),
        "licensed": ctx.licensed,
        "seats": [asdict(seat) for seat in ctx.seats],
        "addons": [asdict(a) for a in ctx.addons],
        "card": ctx.has_payment_method,
        "lines": [asdict(line) for line in change.lines],
        "totals": asdict(totals),
        "date": ctx.today,
    }
    encoded = json.dumps(_jsonable(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]


def _after(ctx: Context, change: Change, field_name: str) -> Any:
    if field_name in change.updates:
        return change.updates[field_name]
    return getattr(ctx.subscription, field_name)


def next_renewal_after(ctx: Context, change: Change) -> tuple[int | None, datetime | None]:
    """The first renewal once the change is applied: its total and date."""
    plan: Plan = _after(ctx, change, "plan")
    price: Price = _after(ctx, change, "price")
    status = _after(ctx, change, "status")
    if plan.is_free or not _after(ctx, change, "auto_renew") or status == SubscriptionStatus.CANCELED:
        return None, None
    start: datetime = (
        _after(ctx, change, "trial_end")
        if status == SubscriptionStatus.TRIALING
        else _after(ctx, change, "current_period_end")
    )
    billable = change.billable_after
    if billable is None:
        billable = pricing.subscription_billable_seats(
            plan, extra_seats=_after(ctx, change, "extra_seats"), coterm_paid_seats=ctx.coterm_paid_seats
        )
    lines = pricing.period_lines(
        plan=plan,
        price=price,
        billable=billable,
        addons=ctx.addons if change.addons_after is None else change.addons_after,
        start=start,
        end=midnight(
            add_interval(
                day_of(start, ctx.zone),
                Interval(price.interval),
                anchor_day=_after(ctx, change, "billing_anchor_day"),
            ),
            ctx.zone,
        ),
    )
    totals = compute_totals(
        lines, vat_rate_bp=ctx.vat_rate_bp, reverse_charge=ctx.reverse_charge, account_balance_cents=0
    )
    return totals.total_cents, start


def build_preview(ctx: Context, change: Change) -> Preview:
    totals = compute_totals(
        change.lines,
        vat_rate_bp=ctx.vat_rate_bp,
        reverse_charge=ctx.reverse_charge,
        account_balance_cents=ctx.balance_cents,
    )
    renewal_cents, renewal_at = next_renewal_after(ctx, change)
    plan: Plan = _after(ctx, change, "plan")
    price: Price = _after(ctx, change, "price")
    outcome = {
        "plan": plan.code,
        "plan_name": plan.name,
        "interval": price.interval,
        "status": _after(ctx, change, "status"),
        "extra_seats": _after(ctx, change, "extra_seats"),
        "period_end": _after(ctx, change, "current_period_end"),
        "trial_end": _after(ctx, change, "trial_end"),
        "auto_renew": _after(ctx, change, "auto_renew"),
    }
    return Preview(
        action=change.action,
        workspace_id=ctx.workspace.pk,
        currency=ctx.workspace.currency,
        lines=tuple(change.lines),
        totals=totals,
        total_due_now_cents=totals.amount_due_cents if totals.total_cents > 0 else 0,
        account_credit_cents=-totals.total_cents if totals.total_cents < 0 else 0,
        next_renewal_cents=renewal_cents,
        next_renewal_at=renewal_at,
        fingerprint=fingerprint(ctx, change, totals),
        params=MappingProxyType(dict(change.params)),
        outcome=MappingProxyType(outcome),
        effects=change.effects,
    )


def lock_subscription(workspace: Workspace, now: datetime) -> Subscription:
    """The workspace's subscription row, locked until the transaction ends (created on
    Free first if the workspace predates billing)."""
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan", "price")
        .filter(workspace=workspace)
        .first()
    )
    if subscription is None:
        subscription_start_free(workspace=workspace, now=now)
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("plan", "price")
            .get(workspace=workspace)
        )
    subscription.workspace = workspace
    return subscription


def compute_preview(workspace: Workspace, now: datetime, compute: Callable[[Context], Change]) -> Preview:
    """A preview computed exactly as ``apply_*`` will compute it, without writing (except
    the Free subscription of a workspace that predates billing, created once)."""
    subscription = Subscription.objects.select_related("plan", "price").filter(workspace=workspace).first()
    if subscription is None:
        subscription = subscription_start_free(workspace=workspace, now=now)
    subscription.workspace = workspace
    ctx = load_context(workspace, subscription, now)
    return replace(build_preview(ctx, compute(ctx)), token=uuid.uuid4().hex)


def record_event(
    subscription: Subscription,
    kind: str,
    *,
    now: datetime,
    actor: Membership | None = None,
    data: Mapping[str, Any] | None = None,
) -> SubscriptionEvent:
    return SubscriptionEvent.objects.create(
        workspace_id=subscription.workspace_id,
        subscription=subscription,
        kind=kind,
        actor=actor.user if actor is not None else None,
        created_at=now,
        data=_jsonable(dict(data or {})),
    )


def record_workspace_event(workspace_id: Any, kind: str, *, now: datetime, data: Mapping[str, Any]) -> None:
    """An event on the workspace's subscription, if it has one (a payment's outcome)."""
    subscription = Subscription.objects.filter(workspace_id=workspace_id).first()
    if subscription is not None:
        record_event(subscription, kind, now=now, data=data)


def confirmation_of(fingerprint: str, token: str) -> str:
    return f"{fingerprint}.{token}" if token else fingerprint


def confirmed(preview: Preview | str) -> tuple[str, str]:
    """``(fingerprint, token)`` of a confirmation: a preview, or the string its form sent
    back (``"<fingerprint>.<token>"``, or a bare fingerprint, which carries no token)."""
    if isinstance(preview, Preview):
        return preview.fingerprint, preview.token
    fingerprint, _, token = preview.partition(".")
    return fingerprint, token


__all__ = [
    "ApplyResult",
    "Change",
    "Context",
    "EventKind",
    "PaymentOutcome",
    "record_workspace_event",
    "Preview",
    "build_preview",
    "check_actor",
    "check_manager",
    "compute_preview",
    "confirmation_of",
    "confirmed",
    "errors",
    "load_context",
    "lock_subscription",
    "record_event",
]


# --- Free: where every workspace starts and every expired subscription returns --------


def free_terms(workspace: Workspace, today: date) -> dict[str, Any]:
    plan = selectors.free_plan()
    return {
        "plan": plan,
        "price": selectors.free_price(plan, workspace.currency),
        "status": SubscriptionStatus.ACTIVE,
        "current_period_start": midnight(today, workspace.billing_zone),
        "current_period_end": midnight(
            add_interval(today, Interval.MONTH, anchor_day=today.day), workspace.billing_zone
        ),
        "billing_anchor_day": today.day,
        "trial_end": None,
        "auto_renew": True,
        "cancel_reason": "",
        "cancel_comment": "",
        "canceled_at": None,
        "extra_seats": 0,
        "past_due_since": None,
        "trial_reminder_sent_at": None,
    }


@transaction.atomic
def subscription_start_free(*, workspace: Workspace, now: datetime) -> Subscription:
    """Put a new workspace on the Free plan (docs/rules/plans.md).

    Idempotent: a workspace that already has its subscription row keeps it.
    """
    existing = Subscription.objects.select_related("plan", "price").filter(workspace=workspace).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                workspace=workspace,
                channel=Channel.WEB,
                created_at=now,
                **free_terms(workspace, day_of(now, workspace.billing_zone)),
            )
    except IntegrityError:
        return Subscription.objects.select_related("plan", "price").get(workspace=workspace)
    record_event(subscription, EventKind.STARTED_FREE, now=now)
    return subscription
