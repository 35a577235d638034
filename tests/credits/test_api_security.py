"""The metering API's guards: per-key rate limit (429 + Retry-After), key scopes and
expiry, JSON for every error status, and docs for staff only (docs/security.md#metering-api)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from credits import apikeys, errors, services
from credits.models import ApiKey, LedgerEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
def allowance(workspace):
    services.allowance_ensure_current(workspace=workspace, now=NOON)


def _key(workspace, **options) -> str:
    _api_key, plain = apikeys.api_key_create(
        workspace=workspace, actor=None, name="Host", now=NOON, **options
    )
    return plain


def _get(client: Client, workspace, key: str, path: str = "/balance"):
    return client.get(f"/api/v1/workspaces/{workspace.pk}/credits{path}", HTTP_AUTHORIZATION=f"Bearer {key}")


def _consume(client: Client, workspace, key: str, user: str, idempotency_key: str = "c1"):
    return client.post(
        f"/api/v1/workspaces/{workspace.pk}/credits/consume",
        json.dumps({"action": "summarize", "user": user}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_IDEMPOTENCY_KEY=idempotency_key,
    )


def _error(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


# --- rate limit ------------------------------------------------------------------------------


def test_a_key_over_its_rate_is_refused_429_with_retry_after_until_the_window_ends(
    client, workspace, allowance, settings
):
    settings.API_RATE_LIMIT = "3/min"
    key, other_key = _key(workspace), _key(workspace)
    with time_machine.travel(NOON, tick=False):
        assert [_get(client, workspace, key).status_code for _ in range(3)] == [200, 200, 200]
        refused = _get(client, workspace, key)
        assert refused.status_code == 429
        assert refused["Retry-After"] == "30"  # 12:00:30, the window ends at 12:01:00
        assert _error(refused)["code"] == "rate_limited"
        assert _get(client, workspace, other_key).status_code == 200  # per key
    with time_machine.travel(NOON + timedelta(seconds=30), tick=False):
        assert _get(client, workspace, key).status_code == 200


def test_a_refused_consume_charges_nothing(client, workspace, allowance, member, settings):
    settings.API_RATE_LIMIT = "1/min"
    key = _key(workspace)
    with time_machine.travel(NOON, tick=False):
        assert _consume(client, workspace, key, member.user.email, "c1").status_code == 200
        assert _consume(client, workspace, key, member.user.email, "c2").status_code == 429
    assert LedgerEntry.objects.filter(workspace=workspace, kind="consume").count() == 1


def test_with_redis_unreachable_the_api_answers_without_a_limit(client, workspace, allowance, settings):
    """Redis guards the rate, it holds nothing the API needs: an outage lets calls through."""
    key = _key(workspace)
    settings.API_RATE_LIMIT = "1/min"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    with time_machine.travel(NOON, tick=False):
        assert [_get(client, workspace, key).status_code for _ in range(3)] == [200, 200, 200]


# --- scopes and expiry -----------------------------------------------------------------------


def test_a_read_only_key_reads_the_balance_and_cannot_consume(client, workspace, allowance, member):
    key = _key(workspace, scopes=["read"])
    with time_machine.travel(NOON, tick=False):
        assert _get(client, workspace, key).json()["balance"] == 10
        refused = _consume(client, workspace, key, member.user.email)
    assert refused.status_code == 403
    assert _error(refused)["code"] == "scope_missing"
    assert not LedgerEntry.objects.filter(workspace=workspace, kind="consume").exists()


def test_a_consume_only_key_cannot_read_the_balance(client, workspace, allowance, member):
    key = _key(workspace, scopes=["consume"])
    with time_machine.travel(NOON, tick=False):
        assert _get(client, workspace, key).status_code == 403
        assert _consume(client, workspace, key, member.user.email).json()["balance"] == 9


def test_an_expired_key_is_refused_401_from_its_expiry_on(client, workspace, allowance):
    key = _key(workspace, expires_at=NOON + timedelta(days=30))
    with time_machine.travel(NOON + timedelta(days=30) - timedelta(seconds=1), tick=False):
        assert _get(client, workspace, key).status_code == 200
    with time_machine.travel(NOON + timedelta(days=30), tick=False):
        refused = _get(client, workspace, key)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Bearer"
    assert _error(refused)["code"] == "unauthorized"


def test_a_key_needs_a_scope_and_a_future_expiry(workspace):
    with pytest.raises(errors.ApiKeyScopesRequired):
        apikeys.api_key_create(workspace=workspace, actor=None, name="None", scopes=[], now=NOON)
    with pytest.raises(errors.ApiKeyScopesRequired):
        apikeys.api_key_create(workspace=workspace, actor=None, name="Bad", scopes=["admin"], now=NOON)
    with pytest.raises(errors.ApiKeyExpiryInPast):
        apikeys.api_key_create(workspace=workspace, actor=None, name="Past", expires_at=NOON, now=NOON)
    assert not ApiKey.objects.exists()


def test_keys_made_before_scopes_existed_keep_both(workspace):
    key = _key(workspace)
    assert ApiKey.objects.get().scopes == ["read", "consume"]
    assert key.startswith("sck_")


# --- JSON for every error ----------------------------------------------------------------------


def test_a_method_the_endpoint_does_not_take_answers_405_in_json_with_allow(client, workspace, allowance):
    key = _key(workspace)
    response = client.get(
        f"/api/v1/workspaces/{workspace.pk}/credits/consume", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert _error(response)["code"] == "method_not_allowed"


def test_a_crash_answers_500_in_json(workspace, allowance, monkeypatch):
    from credits import selectors

    def crash(workspace):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "credit_summary", crash)
    client = Client(raise_request_exception=False)
    with time_machine.travel(NOON, tick=False):
        response = _get(client, workspace, _key(workspace))
    assert response.status_code == 500
    assert _error(response)["code"] == "server_error"
    assert "boom" not in response.content.decode()


def test_a_missing_key_answers_401_in_json(client, workspace):
    response = client.get(f"/api/v1/workspaces/{workspace.pk}/credits/balance")
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


# --- docs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/openapi.json"])
def test_the_docs_and_schema_are_for_signed_in_staff_only(client, member, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")
    client.force_login(member.user)
    assert client.get(path).status_code == 302
    client.force_login(UserFactory(is_staff=True))
    assert client.get(path).status_code == 200


def test_the_docs_load_swagger_ui_from_this_site_not_a_cdn(client):
    client.force_login(UserFactory(is_staff=True))
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui-init.js" in html
    assert "cdn" not in html.lower()
