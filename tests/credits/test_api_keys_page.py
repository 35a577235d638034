"""The API keys page: admins choose a key's scopes and expiry; the page showing a new key is
never cached (docs/security.md#metering-api)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from credits.models import ApiKey

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def test_a_read_only_key_valid_until_a_day_refused_from_the_next_midnight_in_paris(client, workspace, owner):
    client.force_login(owner.user)
    with time_machine.travel(MORNING, tick=False):
        response = client.post(
            reverse("api_keys", args=[workspace.pk]),
            {"name": "Reporting", "scopes": ["read"], "expires_on": "2026-03-31"},
        )
    assert response.status_code == 200
    key = ApiKey.objects.get(workspace=workspace)
    assert key.scopes == ["read"]
    assert key.expires_at == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # 1 April 00:00 in Paris (CEST)
    content = response.content.decode()
    assert "Lire le solde" in content
    assert "Refusée à partir du 1 avr. 2026" in content


def test_the_page_showing_a_new_key_is_never_stored_by_a_cache(client, workspace, owner):
    client.force_login(owner.user)
    response = client.post(reverse("api_keys", args=[workspace.pk]), {"name": "Host", "scopes": ["consume"]})
    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Host"}, "Choisissez ce que la clé peut faire"),
        ({"name": "Host", "scopes": ["admin"]}, "Sélectionnez un choix valide"),
        (
            {"name": "Host", "scopes": ["read"], "expires_on": "2026-03-01"},
            "La date d’expiration doit être dans le futur.",
        ),
    ],
)
def test_a_key_without_scope_or_with_a_past_expiry_is_refused(client, workspace, owner, data, message):
    client.force_login(owner.user)
    with time_machine.travel(MORNING, tick=False):
        response = client.post(reverse("api_keys", args=[workspace.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiKey.objects.exists()


def test_an_expired_key_is_shown_as_expired(client, workspace, owner):
    client.force_login(owner.user)
    with time_machine.travel(MORNING, tick=False):
        client.post(
            reverse("api_keys", args=[workspace.pk]),
            {"name": "Old", "scopes": ["read"], "expires_on": "2026-03-02"},
        )
    with time_machine.travel(datetime(2026, 3, 3, 12, 0, tzinfo=UTC), tick=False):
        content = client.get(reverse("api_keys", args=[workspace.pk])).content.decode()
    assert "Expirée" in content


def test_the_api_docs_link_is_shown_to_staff_only(client, workspace, owner):
    client.force_login(owner.user)
    response = client.post(reverse("api_keys", args=[workspace.pk]), {"name": "Host", "scopes": ["read"]})
    assert "/api/v1/docs" not in response.content.decode()
    owner.user.is_staff = True
    owner.user.save()
    response = client.post(reverse("api_keys", args=[workspace.pk]), {"name": "Host 2", "scopes": ["read"]})
    assert "/api/v1/docs" in response.content.decode()
