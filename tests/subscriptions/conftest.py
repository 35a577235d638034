from datetime import UTC, datetime

import pytest

from billing import services
from credits.models import CreditGrant
from gateways.local.cards import save_test_card
from invoices.models import AccountBalanceEntry, Invoice, InvoiceLine
from subscriptions.models import LocalCharge, PaymentMethod, Price, Subscription, SubscriptionEvent
from tests.factories import MembershipFactory
from workspaces.models import Role

VISA_OK = "4242424242424242"
VISA_DECLINED = "4000000000000002"
NBSP = "\u00a0"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def price_id(plan: str, interval: str = "month", currency: str = "EUR") -> int:
    return Price.objects.get(plan__code=plan, interval=interval, currency=currency, is_active=True).pk


def save_card(workspace, actor, number: str = VISA_OK, *, now: datetime | None = None):
    return save_test_card(
        workspace=workspace,
        actor=actor,
        number=number,
        exp_month=12,
        exp_year=2039,
        now=now or at(2026, 1, 1),
    )


def subscribe(
    workspace,
    actor,
    plan: str,
    interval: str = "month",
    *,
    now: datetime,
    extra_seats: int = 0,
    trial: bool = False,
):
    pid = price_id(plan, interval, workspace.currency)
    preview = services.preview_subscribe(
        workspace=workspace, price_id=pid, trial=trial, extra_seats=extra_seats, now=now
    )
    return services.apply_subscribe(
        workspace=workspace,
        actor=actor,
        price_id=pid,
        trial=trial,
        extra_seats=extra_seats,
        preview=preview,
        now=now,
    )


def add_members(workspace, count: int, role: str = Role.MEMBER):
    return [MembershipFactory(workspace=workspace, role=role) for _ in range(count)]


def db_state(workspace) -> dict:
    """Everything billing may write for a workspace, to prove that nothing changed."""
    row = Subscription.objects.filter(workspace=workspace).values().first()
    subscription = {k: v for k, v in row.items() if k != "updated_at"} if row else None
    return {
        "subscription": subscription,
        "invoices": list(
            Invoice.objects.filter(workspace=workspace).values_list("id", "status", "amount_due_cents")
        ),
        "lines": InvoiceLine.objects.filter(invoice__workspace=workspace).count(),
        "balance": list(
            AccountBalanceEntry.objects.filter(workspace=workspace).values_list("id", "amount_cents")
        ),
        "events": SubscriptionEvent.objects.filter(workspace=workspace).count(),
        "charges": LocalCharge.objects.filter(workspace=workspace).count(),
        "cards": list(PaymentMethod.objects.filter(workspace=workspace).values_list("id", "is_default")),
        "grants": list(
            CreditGrant.objects.filter(workspace=workspace).values_list("id", "bucket", "remaining")
        ),
    }


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def billed_workspace(workspace):
    """The ``workspace`` fixture as created by the product: on Free, with its allowance."""
    services.subscription_start_free(workspace=workspace, now=at(2026, 1, 1))
    return workspace


@pytest.fixture
def other_billed(other_workspace):
    """A second tenant on a paid plan with a card, so scoping mistakes show up."""
    owner = other_workspace.memberships.get(role=Role.OWNER)
    save_card(other_workspace, owner, now=at(2026, 4, 1))
    subscribe(other_workspace, owner, "business", now=at(2026, 4, 1, 8))
    return other_workspace
