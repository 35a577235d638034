"""The "Activité" page (docs/rules/operators.md#activity-page): owners and admins read
their workspace's trail, paginated, filtered by kind and exported as CSV; other roles
are refused, other tenants get 404."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from audit.models import AuditEntry, Kind
from audit.services import record
from teams.services import membership_change_role
from tests.factories import MembershipFactory, UserFactory
from tests.subscriptions.conftest import at
from workspaces.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(workspace, owner):
    """Thirty role changes (25 a page) and one revoked key, 1 minute apart."""
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER, user=UserFactory(email="zoe@acme.test"))
    for minute in range(30):
        role = Role.ADMIN if minute % 2 == 0 else Role.MEMBER
        membership_change_role(membership=member, actor=owner, role=role, now=at(2026, 4, 2, 10, minute))
    record(
        kind=Kind.API_KEY_REVOKED, workspace=workspace, actor=owner.user, object_repr="CI (ab12cd34)",
        now=at(2026, 4, 2, 11),
    )  # fmt: skip
    return member


def test_owner_reads_the_newest_entries_first_in_french_with_pages(client, workspace, owner, trail):
    client.force_login(owner.user)

    first = client.get(reverse("activity", args=[workspace.pk]))
    second = client.get(reverse("activity", args=[workspace.pk]), {"page": 2})

    assert first.status_code == 200
    html = first.content.decode()
    assert "Activité" in html
    rows = html.split("<tbody>")[1]
    assert rows.index("Clé d’API révoquée") < rows.index("Rôle modifié")
    assert rows.count("Rôle modifié") == 24
    assert "Page 1 sur 2" in html
    assert second.content.decode().count("zoe@acme.test") == 6


def test_the_filter_keeps_one_kind_and_the_csv_exports_it(client, workspace, owner, trail):
    client.force_login(owner.user)

    page = client.get(reverse("activity", args=[workspace.pk]), {"kind": Kind.API_KEY_REVOKED})
    export = client.get(reverse("activity_csv", args=[workspace.pk]), {"kind": Kind.API_KEY_REVOKED})

    assert page.content.decode().count("CI (ab12cd34)") == 1
    assert "zoe@acme.test" not in page.content.decode()
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][:4] == ["Date", "Auteur", "Type d’auteur", "Action"]
    assert len(rows) == 2
    assert rows[1][1:6] == [owner.user.email, "Membre de l’espace", "Clé d’API révoquée", "api_key.revoked",
                            "CI (ab12cd34)"]  # fmt: skip


def test_the_page_reads_in_english(client, workspace, owner, trail):
    client.force_login(owner.user)
    client.cookies["django_language"] = "en"

    html = client.get(reverse("activity", args=[workspace.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Role changed" in html
    assert "role: member → admin" in html or "role: admin → member" in html


def test_members_and_billing_admins_are_refused_and_other_tenants_see_nothing(
    client, workspace, other_workspace, trail
):
    for role in (Role.MEMBER, Role.BILLING_ADMIN):
        member = MembershipFactory(workspace=workspace, role=role)
        client.force_login(member.user)
        assert client.get(reverse("activity", args=[workspace.pk])).status_code == 403
        assert client.get(reverse("activity_csv", args=[workspace.pk])).status_code == 403
    stranger = other_workspace.memberships.get(role=Role.OWNER)
    client.force_login(stranger.user)
    assert client.get(reverse("activity", args=[workspace.pk])).status_code == 404
    own = client.get(reverse("activity", args=[other_workspace.pk]))
    assert own.status_code == 200
    assert "zoe@acme.test" not in own.content.decode()
    assert AuditEntry.objects.filter(workspace=other_workspace).count() == 0
