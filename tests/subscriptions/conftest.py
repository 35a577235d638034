from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from billing import services
from credits.models import CreditGrant
from invoices.models import AccountBalanceEntry, Charge, Invoice, InvoiceLine
from subscriptions.models import PaymentMethod, Subscription, SubscriptionEvent
from tests import factories
from tests.factories import VISA_DECLINED as VISA_DECLINED
from tests.factories import VISA_OK, MembershipFactory
from tests.factories import price_id as price_id
from tests.factories import subscribe as subscribe
from workspaces.models import Role

NBSP = "\u00a0"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


#: The workspaces' billing time zone, the product's default
#: (docs/rules/billing-calendar.md#billing-time-zone).
PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int) -> datetime:
    """Midnight of that day in Paris: where the periods billing stores begin and end."""
    return datetime(year, month, day, tzinfo=PARIS)


APRIL_1 = at(2026, 4, 1, 9)
APRIL_10 = at(2026, 4, 10, 9)  # day 10 of a 30-day month: 21 of 30 days remain


def _sub(workspace) -> Subscription:
    return Subscription.objects.select_related("plan", "price").get(workspace=workspace)


def _charges(workspace):
    return list(Charge.objects.filter(workspace=workspace).order_by("id"))


def save_card(workspace, actor, number: str = VISA_OK, *, now: datetime | None = None):
    return factories.save_card(workspace, actor, number, now=now or at(2026, 1, 1))


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
        "charges": Charge.objects.filter(workspace=workspace).count(),
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


@pytest.fixture
def on_starter(billed_workspace, owner):
    """Starter monthly since 1 April 2026 with three licensed members (30,00 €/month)."""
    add_members(billed_workspace, 2)
    add_members(billed_workspace, 1, Role.GUEST)  # holds no licence: not billed
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "starter", now=APRIL_1)
    return billed_workspace


@pytest.fixture
def on_team_starter(billed_workspace, owner, other_billed):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "team-starter", now=APRIL_1)
    return billed_workspace


@pytest.fixture
def pages_at_now():
    """The page tests' clock, stopped at their ``NOW``; each page module makes it autouse."""
    from tests.subscriptions.test_pages_support import NOW

    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def acme(workspace, other_workspace):
    """Seed 001's workspace, next to another tenant with its own paid plan and data."""
    from tests.subscriptions.test_pages_support import seed_001_next_to_another_tenant

    return seed_001_next_to_another_tenant(workspace, other_workspace)
