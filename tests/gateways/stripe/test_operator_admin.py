"""What operators do in the Django admin to subscriptions (carried over from the retired
card pages' tests): expire one through the service, edit the catalog, never edit a
subscription's row by hand."""

from __future__ import annotations

import pytest

from audit.models import ActorKind, AuditEntry
from billing.services import subscription_start_free
from subscriptions.models import EventKind, Plan, Subscription, SubscriptionEvent
from tests.factories import SubscriptionFactory, UserFactory, subscribe
from tests.subscriptions.conftest import at, save_card

pytestmark = pytest.mark.django_db


def test_operators_expire_a_subscription_through_the_service_with_a_reason(
    client, workspace, owner, other_workspace
):
    save_card(workspace, owner)
    subscribe(workspace, owner, "business", now=at(2026, 4, 1))
    other = SubscriptionFactory(workspace=other_workspace, plan_code="business", now=at(2026, 4, 1))
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    subscription = Subscription.objects.get(workspace=workspace)
    selected = {"action": "expire_now", "_selected_action": [subscription.pk]}

    confirmation = client.post("/admin/subscriptions/subscription/", selected)
    without_reason = client.post("/admin/subscriptions/subscription/", {**selected, "confirm": "1"})

    assert confirmation.status_code == 200
    page = confirmation.content.decode()
    assert "Business → Free" in page
    assert 'name="reason"' in page
    assert without_reason.status_code == 400
    subscription.refresh_from_db()
    assert subscription.plan.code == "business"

    response = client.post(
        "/admin/subscriptions/subscription/",
        {**selected, "confirm": "1", "reason": "Compte frauduleux"},
        follow=True,
    )

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.plan.is_free
    assert SubscriptionEvent.objects.filter(workspace=workspace, kind=EventKind.EXPIRED).count() == 1
    [entry] = AuditEntry.objects.filter(workspace=workspace, actor_kind=ActorKind.OPERATOR)
    assert (entry.actor_id, entry.reason, entry.object_repr) == (operator.pk, "Compte frauduleux", "expire")
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
