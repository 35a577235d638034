"""The workspace's billing time zone, a setting of the workspace Settings page
(docs/rules/billing-calendar.md#billing-time-zone): owners and admins choose it among
the IANA zones, it applies from the next billing period, nobody else can change it."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import translation

from billing.services.billing_time_zone import billing_time_zone_change
from tests.factories import MembershipFactory, SubscriptionRowFactory
from workspaces import errors
from workspaces.models import Role, Workspace
from workspaces.time_zones import billing_time_zones

pytestmark = pytest.mark.django_db

MARCH_10 = datetime(2026, 3, 10, 9, tzinfo=UTC)


@pytest.fixture
def monthly(workspace):
    """Pro monthly, 1 March to 1 April 2026 (the row alone: no purchase is needed here)."""
    return SubscriptionRowFactory(workspace=workspace, interval="month", start=date(2026, 3, 1), card=False)


def settings_url(workspace) -> str:
    return reverse("workspace_settings", args=[workspace.pk])


def choose_url(workspace) -> str:
    return reverse("workspace_billing_time_zone", args=[workspace.pk])


def zone_state(workspace) -> tuple[str, str, datetime | None]:
    fresh = Workspace.objects.get(pk=workspace.pk)
    return fresh.billing_time_zone, fresh.billing_time_zone_next, fresh.billing_time_zone_next_at


UNCHANGED = ("Europe/Paris", "", None)


def test_the_settings_page_offers_every_zone_with_paris_chosen(client, workspace, owner):
    client.force_login(owner.user)
    response = client.get(settings_url(workspace))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Fuseau horaire de facturation" in page
    assert '<option value="Europe/Paris" selected>' in page
    assert '<option value="America/New_York">' in page


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_an_owner_or_admin_chooses_a_zone_that_applies_from_the_next_period(client, workspace, monthly, role):
    actor = (
        workspace.memberships.get(role=Role.OWNER)
        if role == Role.OWNER
        else MembershipFactory(workspace=workspace, role=role)
    )
    client.force_login(actor.user)
    with time_machine.travel(MARCH_10, tick=False):
        response = client.post(choose_url(workspace), {"billing_time_zone": "America/New_York"}, follow=True)
    assert response.status_code == 200
    # The period in progress (1 March to 1 April, in Paris) keeps its zone.
    assert zone_state(workspace) == ("Europe/Paris", "America/New_York", datetime(2026, 4, 1, tzinfo=UTC))
    page = response.content.decode()
    assert "America/New_York" in page
    assert "à partir du 1 avril 2026" in page


def test_choosing_the_zone_in_force_again_cancels_the_pending_change(workspace, owner, monthly):
    billing_time_zone_change(workspace=workspace, actor=owner, zone="Asia/Tokyo", now=MARCH_10)
    billing_time_zone_change(workspace=workspace, actor=owner, zone="Europe/Paris", now=MARCH_10)
    assert zone_state(workspace) == UNCHANGED


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER, Role.GUEST])
def test_other_roles_cannot_change_it(client, workspace, monthly, role):
    member = MembershipFactory(workspace=workspace, role=role)
    client.force_login(member.user)
    response = client.post(choose_url(workspace), {"billing_time_zone": "America/New_York"})
    assert response.status_code == 403
    assert "Seuls le propriétaire et les administrateurs" in response.content.decode()
    with pytest.raises(errors.PermissionDenied):
        billing_time_zone_change(workspace=workspace, actor=member, zone="America/New_York", now=MARCH_10)
    assert zone_state(workspace) == UNCHANGED


def test_a_member_sees_the_zone_without_a_form(client, workspace, monthly):
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    client.force_login(member.user)
    page = client.get(settings_url(workspace)).content.decode()
    assert "Europe/Paris" in page
    assert 'name="billing_time_zone"' not in page


def test_an_unknown_zone_is_refused_with_a_clear_error_and_changes_nothing(client, workspace, owner, monthly):
    client.force_login(owner.user)
    response = client.post(choose_url(workspace), {"billing_time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 400
    assert (
        "« Mars/Olympus_Mons » n’est pas un fuseau horaire. Choisissez-en un dans la liste, "
        "par exemple Europe/Paris."
    ) in response.content.decode()
    assert zone_state(workspace) == UNCHANGED

    with pytest.raises(errors.DomainError) as refused, translation.override("en"):
        billing_time_zone_change(workspace=workspace, actor=owner, zone="Paris", now=MARCH_10)
    with translation.override("en"):
        assert str(refused.value.message) == (
            "“Paris” is not a time zone. Choose one from the list, such as Europe/Paris."
        )
    assert zone_state(workspace) == UNCHANGED


def test_the_english_page_explains_the_error_in_english(client, workspace, owner, monthly):
    client.force_login(owner.user)
    client.cookies["django_language"] = "en"
    response = client.post(choose_url(workspace), {"billing_time_zone": "Europe/Pariss"})
    assert response.status_code == 400
    assert "“Europe/Pariss” is not a time zone. Choose one from the list, such as Europe/Paris." in (
        response.content.decode()
    )
    assert zone_state(workspace) == UNCHANGED


def test_every_zone_offered_is_known_to_python_and_to_the_database():
    # The sweeps read billing days in SQL too (AT TIME ZONE), the services in Python.
    offered = billing_time_zones()
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_timezone_names WHERE name = ANY(%s)", [list(offered)])
        known = {row[0] for row in cursor.fetchall()}
    assert set(offered) - known == set()
    assert set(offered) <= zoneinfo.available_timezones()
    assert {"Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC"} <= set(offered)
    assert "CET" not in offered
