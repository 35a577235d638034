"""What the operators' workspace page reads (docs/rules/operators.md#workspace-page):
each list bounded or paginated, every query scoped by the workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from audit.models import AuditEntry
from credits.models import CreditBalance, CreditGrant, EntryKind, LedgerEntry
from gateways.stripe.models import StripeCustomer, StripeEvent
from invoices.models import AccountBalanceEntry, Charge, Invoice
from invoices.selectors import account_balance_cents
from subscriptions.models import Subscription, SubscriptionAddOn, SubscriptionEvent
from teams.models import Seat
from workspaces.models import Membership, Workspace

RECENT = 50
LEDGER_PAGE = 25


@dataclass(frozen=True)
class WorkspacePage:
    workspace: Workspace
    subscription: Subscription | None
    events: list[SubscriptionEvent]
    memberships: list[Membership]
    seats: list[Seat]
    invoices: list[Invoice]
    charges: list[Charge]
    stripe_customer: str
    stripe_events: list[StripeEvent]
    grants: list[CreditGrant]
    credit_balance: CreditBalance | None
    ledger: Page  # type: ignore[type-arg]
    ledger_kinds: list[tuple[str, Any]]
    ledger_kind: str
    balance_cents: int
    balance_entries: list[AccountBalanceEntry]
    audit: list[AuditEntry]


def subscription_customization(workspace: Workspace) -> tuple[int, dict[str, int]]:
    """The extra seats and the add-on quantities the subscription holds now."""
    subscription = Subscription.objects.filter(workspace=workspace).first()
    if subscription is None:
        return 0, {}
    addons = dict(
        SubscriptionAddOn.objects.filter(subscription=subscription).values_list("addon__code", "quantity")
    )
    return int(subscription.extra_seats), addons


def subscription_trial_end(workspace: Workspace) -> datetime | None:
    """When the workspace's trial ends now (None without one)."""
    return Subscription.objects.filter(workspace=workspace).values_list("trial_end", flat=True).first()


def stripe_event_workspace(event: StripeEvent) -> Workspace | None:
    """The workspace a Stripe event concerns, by its customer (None when it names none of ours)."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    obj = (payload.get("data") or {}).get("object") or {}
    customer = obj.get("customer") if isinstance(obj, dict) else None
    if not isinstance(customer, str) or not customer:
        return None
    found = StripeCustomer.objects.filter(customer_id=customer).select_related("workspace").first()
    return found.workspace if found is not None else None


def ledger_of(workspace: Workspace, kind: str = "") -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.filter(workspace=workspace).select_related("action", "actor")
    if kind:
        entries = entries.filter(kind=kind) if kind in EntryKind.values else entries.none()
    return entries.order_by("-created_at", "-id")


def workspace_page(workspace: Workspace, *, ledger_kind: str = "", ledger_page: Any = None) -> WorkspacePage:
    subscription = Subscription.objects.select_related("plan", "price").filter(workspace=workspace).first()
    customer = (
        StripeCustomer.objects.filter(workspace=workspace).values_list("customer_id", flat=True).first()
    )
    charges = list(
        Charge.objects.filter(workspace=workspace)
        .select_related("invoice")
        .order_by("-created_at", "-id")[:RECENT]
    )
    references = [charge.reference for charge in charges if charge.reference]
    stripe_filter = Q(pk__in=[])
    if customer:
        stripe_filter |= Q(payload__data__object__customer=customer)
    if references:
        stripe_filter |= Q(payload__data__object__id__in=references)
        stripe_filter |= Q(payload__data__object__payment_intent__in=references)
    return WorkspacePage(
        workspace=workspace,
        subscription=subscription,
        events=list(
            SubscriptionEvent.objects.filter(workspace=workspace)
            .select_related("actor")
            .order_by("-created_at", "-id")[:RECENT]
        ),  # fmt: skip
        memberships=list(
            Membership.objects.filter(workspace=workspace)
            .select_related("user")
            .order_by("role", "user__email")
        ),
        seats=list(Seat.objects.filter(workspace=workspace).order_by("status", "user_email")[:RECENT]),
        invoices=list(
            Invoice.objects.filter(workspace=workspace)
            .exclude(number=None)
            .select_related("corrects")
            .order_by("-issued_at", "-id")[:RECENT]
        ),  # fmt: skip
        charges=charges,
        stripe_customer=customer or "",
        stripe_events=list(StripeEvent.objects.filter(stripe_filter).order_by("-received_at")[:RECENT]),
        grants=list(CreditGrant.objects.filter(workspace=workspace).order_by("-created_at", "-id")[:RECENT]),
        credit_balance=CreditBalance.objects.filter(workspace=workspace).first(),
        ledger=Paginator(ledger_of(workspace, ledger_kind), LEDGER_PAGE).get_page(ledger_page),
        ledger_kinds=list(EntryKind.choices),
        ledger_kind=ledger_kind,
        balance_cents=account_balance_cents(workspace),
        balance_entries=list(
            AccountBalanceEntry.objects.filter(workspace=workspace)
            .select_related("invoice")
            .order_by("-created_at", "-id")[:RECENT]
        ),  # fmt: skip
        audit=list(AuditEntry.objects.filter(workspace=workspace).order_by("-created_at", "-id")[:RECENT]),
    )
