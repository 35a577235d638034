"""What operators do in the Django admin to subscriptions (carried over from the retired
card pages' tests): expire one through the service, edit the catalog, never edit a
subscription's row by hand."""

from __future__ import annotations

import pytest

from billing.services import subscription_start_free
from subscriptions.models import EventKind, Plan, Subscription, SubscriptionEvent
from tests.factories import SubscriptionFactory, UserFactory, subscribe
from tests.subscriptions.conftest import at, save_card

pytestmark = pytest.mark.django_db


def test_operators_expire_a_subscription_through_the_service(client, workspace, owner, other_workspace):
    save_card(workspace, owner)
    subscribe(workspace, owner, "business", now=at(2026, 4, 1))
    other = SubscriptionFactory(workspace=other_workspace, plan_code="business", now=at(2026, 4, 1))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    subscription = Subscription.objects.get(workspace=workspace)

    response = client.post(
        "/admin/subscriptions/subscription/",
        {"action": "expire_now", "_selected_action": [subscription.pk]},
        follow=True,
    )

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.plan.is_free
    assert SubscriptionEvent.objects.filter(workspace=workspace, kind=EventKind.EXPIRED).count() == 1
    other.refresh_from_db()
    assert other.plan.code == "business"


def test_the_catalog_is_editable_and_subscriptions_read_only_in_the_admin(client, workspace):
    subscription = subscription_start_free(workspace=workspace, now=at(2026, 4, 1))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    plan_page = client.get(f"/admin/subscriptions/plan/{Plan.objects.get(code='business').pk}/change/")
    subscription_page = client.get(f"/admin/subscriptions/subscription/{subscription.pk}/change/")

    assert plan_page.status_code == 200
    assert 'name="rank"' in plan_page.content.decode()
    assert subscription_page.status_code == 200
    assert 'name="status"' not in subscription_page.content.decode()
    assert client.get("/admin/subscriptions/subscription/add/").status_code == 403
