"""Health, readiness, metrics and the request id."""

from __future__ import annotations

import pytest
from django.core.mail import EmailMessage

from outbox.models import Message
from tests.outbox.conftest import free_port

pytestmark = pytest.mark.django_db


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database_the_cache_and_the_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_readyz_is_unavailable_while_the_broker_is_down(client, settings):
    from config.celery import app

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    try:
        response = client.get("/readyz")
    finally:
        app._after_fork()  # type: ignore[attr-defined]
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error: ")


def test_metrics_show_requests_our_counters_and_the_outbox_depth(client, settings, outbox_mail):
    EmailMessage(subject="Bienvenue", body="Bonjour", to=["a@acme.test"]).send()  # one row waits
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'seatcredit_outbox_depth{status="pending"} 1.0' in text
    assert 'seatcredit_outbox_depth{status="dead"} 0.0' in text
    assert "seatcredit_webhook_lag_seconds 0.0" in text
    for name in (
        "seatcredit_credits_consumed_total",
        "seatcredit_charges_total",
        "seatcredit_charge_declines_total",
        "django_http_requests_total_by_method_total",
    ):
        assert name in text


def test_metrics_need_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "scrape-secret-0123456789"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-0123456789").status_code == 200


def test_the_request_id_is_answered_and_kept_on_what_the_request_queued(client, outbox_mail):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "newbie@example.test",
            "password1": "a-Long-passphrase-42",
            "password2": "a-Long-passphrase-42",
        },
        HTTP_X_REQUEST_ID="req-0123456789",
    )
    assert response.status_code == 302
    assert response["X-Request-ID"] == "req-0123456789"
    assert list(Message.objects.values_list("request_id", flat=True)) == ["req-0123456789"]
