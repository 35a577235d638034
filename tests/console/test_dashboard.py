"""The operators' dashboard (docs/rules/operators.md#dashboard): MRR and ARR by plan with
their 12-month history, subscription counts, 30-day churn with its reasons, credits
consumed per day, failed Stripe events and invoices in dunning; a constant number of
queries whatever the number of workspaces."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.services import lifecycle, subscription_start_free
from console.dashboard import dashboard
from console.groups import operator_add
from subscriptions.models import Plan, Price, Subscription, SubscriptionStatus
from tests.factories import (
    ConsumptionFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
    subscribe,
)
from tests.subscriptions.conftest import at
from workspaces.models import Role, Workspace

pytestmark = pytest.mark.django_db

NOW = at(2026, 4, 5, 12)


def _workspace(name: str, members: int = 0):
    owner = MembershipFactory(role=Role.OWNER, workspace=WorkspaceFactory(name=name))
    for _ in range(members):
        MembershipFactory(workspace=owner.workspace, role=Role.MEMBER)
    return owner


@pytest.fixture
def base():
    """Acme: Business monthly, 2 members (2 × 20,00 €); Beta: Team Starter yearly
    (1 590,00 € a year); Delta: Starter monthly, 1 member (10,00 €), cancelled for its
    cost on 1 April; Gamma: a Pro trial; Zeta: on Free. All bought on 10 March (Paris)."""
    bought = at(2026, 3, 9, 23)  # 10 March, midnight in Paris
    acme = _workspace("Acme", members=1)
    subscribe(acme.workspace, acme, "business", now=bought)
    beta = _workspace("Beta")
    subscribe(beta.workspace, beta, "team-starter", "year", now=bought)
    delta = _workspace("Delta")
    subscribe(delta.workspace, delta, "starter", now=bought)
    preview = lifecycle.preview_cancel(workspace=delta.workspace, reason="too_expensive", now=at(2026, 4, 1))
    lifecycle.apply_cancel(
        workspace=delta.workspace, actor=delta, reason="too_expensive", preview=preview, now=at(2026, 4, 1)
    )
    gamma = _workspace("Gamma")
    subscribe(gamma.workspace, gamma, "pro", now=bought, trial=True)
    zeta = _workspace("Zeta")
    subscription_start_free(workspace=zeta.workspace, now=bought)
    for day, quantity in ((at(2026, 4, 3, 10), 3), (at(2026, 4, 4, 10), 5), (at(2026, 4, 4, 15), 2)):
        ConsumptionFactory(workspace=acme.workspace, action="summarize", quantity=quantity, created_at=day)
    return acme


def test_the_figures_over_the_whole_base(base):
    data = dashboard(now=NOW, zone="Europe/Paris")

    assert [(p.code, p.subscriptions, p.mrr_cents, p.arr_cents) for p in data.mrr_by_plan] == [
        ("starter", 1, 1_000, 12_000),
        ("business", 1, 4_000, 48_000),
        ("team-starter", 1, 13_250, 159_000),
    ]
    assert data.mrr_totals == {"EUR": 18_250}
    assert data.arr_totals == {"EUR": 219_000}
    assert data.counts == {"active": 2, "trialing": 1, "past_due": 0, "canceled": 1, "free": 1}
    assert data.churn == [("too_expensive", 1)]
    assert data.churn_rate_bp == 3_333  # 1 of 3 paying subscriptions (Delta runs until 10 April)
    assert [(day, spent) for day, spent in data.credits_per_day] == [
        (date(2026, 4, 3), 3),
        (date(2026, 4, 4), 7),
    ]
    # The history: on 1 March nothing was bought yet; on 1 April the three paying periods run.
    assert len(data.history) == 12
    assert data.history[0][0] == at(2025, 5, 1)
    assert [amounts for _month, amounts in data.history[-2:]] == [{}, {"EUR": 18_250}]
    assert (data.failed_events_count, data.dunning_count) == (0, 0)


def test_the_page_shows_the_figures_as_money_in_french(client, base):
    operator = UserFactory(email="support@ops.test")
    operator_add(email=operator.email, group="support")
    client.force_login(operator)

    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("admin:operators_dashboard")).content.decode()

    assert "182,50\u00a0€" in html  # MRR
    assert "2\u202f190,00\u00a0€" in html  # ARR
    assert "Coût trop élevé" in html
    assert "33,33\u00a0%" in html
    assert "mai 2025" in html  # the chart's first month
    assert "avr. 2026<br>182,50\u00a0€" in html  # and its last, at the MRR


def test_staff_outside_the_groups_are_refused(client, db):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(reverse("admin:operators_dashboard")).status_code == 403


def _bulk_workspaces(count: int) -> None:
    """``count`` workspaces, each on a plan, written by SQL (the figures' inputs only)."""
    prices = list(Price.objects.filter(currency="EUR", is_active=True).select_related("plan"))
    workspaces = Workspace.objects.bulk_create(
        [Workspace(name=f"Bulk {i}") for i in range(count)], batch_size=2_000
    )
    statuses = [SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE]
    Subscription.objects.bulk_create(
        [
            Subscription(
                workspace=w,
                price=prices[i % len(prices)],
                plan=prices[i % len(prices)].plan,
                status=statuses[i % 3],
                current_period_start=at(2026, 4, 1),
                current_period_end=at(2026, 5, 1),
                billing_anchor_day=1,
            )  # fmt: skip
            for i, w in enumerate(workspaces)
        ],
        batch_size=2_000,
    )


@pytest.mark.parametrize("count", [10, 10_000])
def test_the_page_runs_the_same_queries_for_10_and_10000_workspaces(client, db, count):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    _bulk_workspaces(count)
    assert Plan.objects.exists()

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:operators_dashboard"))

    assert response.status_code == 200
    assert Subscription.objects.count() == count
    assert len(queries) == QUERIES_PER_PAGE


#: The session and the user, the dashboard's seven queries, then the staff session's
#: last-seen time saved (a savepoint around one UPDATE).
QUERIES_PER_PAGE = 2 + 7 + 3
