"""The metering API: every status code, the error format, idempotency and the OpenAPI schema."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from credits import apikeys, selectors, services
from credits.models import ApiKey, LedgerEntry, Reservation
from tests.credits.helpers import assert_ledger_consistent
from tests.factories import MembershipFactory, UserFactory
from workspaces.models import Role


@pytest.fixture
def api(workspace, member):
    """A client with the workspace's key; the workspace has its Free allowance (10)."""
    from django.utils import timezone

    services.allowance_ensure_current(workspace=workspace, now=timezone.now())
    _key, key = apikeys.api_key_create(workspace=workspace, actor=None, name="Host product")

    class Api:
        base = f"/api/v1/workspaces/{workspace.pk}/credits"

        def __init__(self) -> None:
            self.client = Client()
            self.key = key
            self.user = member.user.email

        def headers(self, idempotency_key=None, key=None):
            headers = {"HTTP_AUTHORIZATION": f"Bearer {key or self.key}"}
            if idempotency_key:
                headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
            return headers

        def get(self, path, **extra):
            return self.client.get(self.base + path, **extra)

        def post(self, path, body=None, idempotency_key=None, key=None, base=None):
            return self.client.post(
                (base or self.base) + path,
                json.dumps(body) if body is not None else "",
                content_type="application/json",
                **self.headers(idempotency_key, key),
            )

        def consume(self, idempotency_key="k1", **body):
            return self.post(
                "/consume", {"action": "summarize", "quantity": 1, "user": self.user, **body}, idempotency_key
            )

    return Api()


def _error(response):
    payload = response.json()
    assert set(payload) == {"error"}
    assert {"code", "message"} <= set(payload["error"])
    return payload["error"]


@pytest.mark.django_db
def test_balance(api, workspace):
    response = api.get("/balance", **api.headers())
    assert response.status_code == 200
    body = response.json()
    assert body["balance"] == 10
    assert body["buckets"] == {"plan_allowance": 10, "addon_allowance": 0, "purchased": 0, "free": 0}
    assert (body["allowance"], body["allowance_remaining"], body["remaining_percent"], body["held"]) == (
        10,
        10,
        "100.00",
        0,
    )
    assert body["period_start"] < body["period_end"]


@pytest.mark.django_db
def test_consume_200_and_a_replay_returns_the_first_result(api, workspace):
    first = api.consume(quantity=3)
    assert first.status_code == 200
    assert first.json() == {
        "consumed": 3,
        "balance": 7,
        "entry_id": LedgerEntry.objects.get(workspace=workspace, kind="consume").pk,
    }
    assert "Idempotent-Replayed" not in first.headers
    for _ in range(3):
        again = api.consume(quantity=3)
        assert again.status_code == 200
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
    assert selectors.credit_summary(workspace).balance == 7
    assert LedgerEntry.objects.filter(workspace=workspace, kind="consume").get().actor.email == api.user


@pytest.mark.django_db
def test_402_insufficient_credits_with_balance_required_and_upgrade_options(api, workspace):
    response = api.consume(action="prototype_screen", quantity=3)
    assert response.status_code == 402
    error = _error(response)
    assert error["code"] == "insufficient_credits"
    assert (error["balance"], error["required"]) == (10, 15)
    kinds = [option["kind"] for option in error["upgrade_options"]]
    assert kinds == ["extra_credits", "ai_credits_addon", "plan_upgrade"]
    assert all(
        option["url"].startswith("http") and str(workspace.pk) in option["url"]
        for option in error["upgrade_options"]
    )
    assert all(option["label"] for option in error["upgrade_options"])
    assert not LedgerEntry.objects.filter(workspace=workspace, kind="consume").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.GUEST, Role.VISITOR])
def test_403_role_not_allowed(api, workspace, role):
    guest = MembershipFactory(workspace=workspace, role=role)
    response = api.consume(action="alt_text", user=guest.user.email)
    assert response.status_code == 403
    assert _error(response)["code"] == "role_not_allowed"
    response = api.post("/reservations", {"action": "alt_text", "user": guest.user.email}, "r-guest")
    assert response.status_code == 403
    assert not LedgerEntry.objects.filter(workspace=workspace, kind__in=["consume", "reserve"]).exists()


@pytest.mark.django_db
def test_404_with_another_workspaces_key(api, workspace, other_workspace):
    _other, other_key = apikeys.api_key_create(workspace=other_workspace, actor=None, name="Other")
    for response in (
        api.get("/balance", **api.headers(key=other_key)),
        api.post("/consume", {"action": "summarize", "user": api.user}, "x", key=other_key),
        api.post("/reservations", {"action": "summarize", "user": api.user}, "y", key=other_key),
    ):
        assert response.status_code == 404
        assert _error(response)["code"] == "not_found"
    assert not LedgerEntry.objects.filter(kind="consume").exists()


@pytest.mark.django_db
def test_404_for_an_unknown_reservation_or_one_of_another_workspace(api, workspace, other_workspace):
    from django.utils import timezone

    other_member = MembershipFactory(workspace=other_workspace, role=Role.MEMBER)
    theirs = services.credits_reserve(
        workspace=other_workspace,
        actor=other_member,
        action="summarize",
        idempotency_key="t",
        now=timezone.now(),
    )
    for rid in (uuid.uuid4(), theirs.reservation.pk):
        for verb in ("capture", "release"):
            response = api.post(f"/reservations/{rid}/{verb}")
            assert response.status_code == 404
            assert _error(response)["code"] == "not_found"
    assert Reservation.objects.get(pk=theirs.reservation.pk).status == "held"


@pytest.mark.django_db
def test_409_idempotency_key_reused_with_a_different_body(api, workspace):
    assert api.consume(quantity=1).status_code == 200
    response = api.consume(quantity=2)
    assert response.status_code == 409
    assert _error(response)["code"] == "idempotency_key_reused"
    assert selectors.credit_summary(workspace).balance == 9


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"quantity": 0}, "invalid_input"),
        ({"quantity": "many"}, "invalid_input"),
        ({"action": ""}, "invalid_input"),
        ({"user": None}, "invalid_input"),
        ({"action": "teleport"}, "unknown_action"),
        ({"user": "nobody@example.test"}, "unknown_member"),
    ],
)
def test_422_invalid_input(api, workspace, body, code):
    response = api.consume(**body)
    assert response.status_code == 422
    assert _error(response)["code"] == code
    assert not LedgerEntry.objects.filter(workspace=workspace, kind="consume").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["action", "user"])
@pytest.mark.parametrize("path", ["/consume", "/reservations"])
def test_422_when_a_text_field_holds_a_nul_character(api, workspace, field, path):
    """PostgreSQL refuses NUL in text: the API answers 422, not a server error."""
    body = {"action": "summarize", "quantity": 1, "user": api.user}
    body[field] += "\u0000"
    response = api.post(path, body, idempotency_key="k-nul")
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "invalid_input"
    assert [f["field"] for f in error["fields"]] == [f"payload.{field}"]
    assert not LedgerEntry.objects.filter(workspace=workspace).exclude(kind="grant").exists()
    assert not Reservation.objects.filter(workspace=workspace).exists()


@pytest.mark.django_db
def test_422_on_a_malformed_body_or_a_missing_idempotency_key(api, workspace):
    response = api.client.post(
        api.base + "/consume", "{not json", content_type="application/json", **api.headers("k")
    )
    assert response.status_code == 422
    assert _error(response)["code"] == "invalid_input"
    response = api.post("/consume", {"action": "summarize", "user": api.user})
    assert response.status_code == 422
    assert _error(response)["code"] == "idempotency_key_required"
    assert not LedgerEntry.objects.filter(workspace=workspace, kind="consume").exists()


@pytest.mark.django_db
def test_422_in_the_error_format_for_a_malformed_id_in_the_path(api, workspace):
    """A client that sends a bad id gets the API's JSON error, not the site's HTML page."""
    bad_workspace = "/api/v1/workspaces/not-a-uuid/credits"
    response = api.client.get(bad_workspace + "/balance", **api.headers())
    assert response.status_code == 422
    assert _error(response)["code"] == "invalid_input"
    response = api.post("/reservations/not-a-uuid/capture", idempotency_key="k")
    assert response.status_code == 422
    assert _error(response)["code"] == "invalid_input"
    response = api.post("/consume", {"action": "summarize", "user": api.user}, "k", base=bad_workspace)
    assert response.status_code == 422
    assert not LedgerEntry.objects.filter(workspace=workspace, kind="consume").exists()


@pytest.mark.django_db
def test_401_without_a_valid_key(api, workspace):
    assert api.client.get(api.base + "/balance").status_code == 401
    assert _error(api.client.get(api.base + "/balance"))["code"] == "unauthorized"
    assert api.get("/balance", **api.headers(key="sck_nope_nope")).status_code == 401
    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")
    response = api.consume()
    assert response.status_code == 401
    assert not LedgerEntry.objects.filter(workspace=workspace, kind="consume").exists()


@pytest.mark.django_db
def test_reservation_lifecycle_201_capture_release(api, workspace):
    created = api.post("/reservations", {"action": "prototype_screen", "user": api.user}, "r1")
    assert created.status_code == 201
    body = created.json()
    assert (body["amount"], body["status"], body["balance"]) == (5, "held", 5)
    assert body["expires_at"]
    replay = api.post("/reservations", {"action": "prototype_screen", "user": api.user}, "r1")
    assert replay.status_code == 201
    assert replay.json()["id"] == body["id"]
    captured = api.post(f"/reservations/{body['id']}/capture")
    assert captured.status_code == 200
    assert {k: captured.json()[k] for k in ("status", "amount", "balance")} == {
        "status": "captured",
        "amount": 5,
        "balance": 5,
    }
    assert api.post(f"/reservations/{body['id']}/capture").status_code == 200
    refused = api.post(f"/reservations/{body['id']}/release")
    assert refused.status_code == 409
    assert _error(refused)["code"] == "reservation_not_held"

    second = api.post("/reservations", {"action": "prototype_screen", "user": api.user}, "r2").json()
    released = api.post(f"/reservations/{second['id']}/release")
    assert released.status_code == 200
    assert (released.json()["status"], released.json()["balance"]) == ("released", 5)
    assert selectors.credit_summary(workspace).balance == 5
    assert_ledger_consistent(workspace)


@pytest.mark.django_db
def test_last_used_is_recorded(api):
    assert ApiKey.objects.get().last_used_at is None
    api.get("/balance", **api.headers())
    assert ApiKey.objects.get().last_used_at is not None


@pytest.mark.django_db
def test_openapi_schema(client):
    client.force_login(UserFactory(is_staff=True))
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    base = "/api/v1/workspaces/{workspace_id}/credits"
    assert set(paths) == {
        f"{base}/balance",
        f"{base}/consume",
        f"{base}/reservations",
        f"{base}/reservations/{{reservation_id}}/capture",
        f"{base}/reservations/{{reservation_id}}/release",
    }
    consume = paths[f"{base}/consume"]["post"]
    assert {"200", "401", "402", "403", "404", "409", "422", "429"} <= set(consume["responses"])
    (idempotency_key,) = [p for p in consume["parameters"] if p["name"] == "Idempotency-Key"]
    assert (idempotency_key["in"], idempotency_key["required"]) == ("header", True)
    assert "201" in paths[f"{base}/reservations"]["post"]["responses"]
    assert any("bearer" in str(s).lower() for s in schema["components"]["securitySchemes"].values())


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2/workspaces/", "/api/"])
def test_unknown_api_addresses_answer_404_in_the_error_format(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


def test_the_key_brings_every_workspace_field_the_metering_path_reads(workspace, django_assert_num_queries):
    """One prepared query authenticates a metering call; the credit period is dated in the
    workspace's billing time zone without fetching the workspace again."""
    _key, secret = apikeys.api_key_create(workspace=workspace, actor=None, name="Host product")
    key = apikeys.api_key_authenticate(key=secret)
    assert key is not None

    with django_assert_num_queries(0):
        assert str(key.workspace.billing_zone) == "Europe/Paris"
        assert (key.workspace.currency, key.workspace.name) == (workspace.currency, workspace.name)
