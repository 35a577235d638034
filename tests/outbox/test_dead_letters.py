"""Operators see the outbox in the admin, read-only, and send dead rows again."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone

from outbox import services
from outbox.models import Message, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead(outbox_mail, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    settings.OUTBOX_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    EmailMessage(subject="Reçu de paiement", body="Merci", to=["compta@acme.test"]).send()
    message = Message.objects.get()
    assert services.deliver(message.pk) == "dead"
    message.refresh_from_db()
    return message


def test_the_dead_letter_list_shows_given_up_rows_and_changes_nothing(admin_client, dead):
    page = admin_client.get("/admin/outbox/message/?status__exact=dead")
    assert page.status_code == 200
    assert "Reçu de paiement" in page.content.decode()
    detail = admin_client.get(f"/admin/outbox/message/{dead.pk}/change/")
    assert detail.status_code == 200
    assert "Connection refused" in detail.content.decode() or "ConnectionRefused" in detail.content.decode()
    # Read-only: no add page, and a posted change is refused.
    assert admin_client.get("/admin/outbox/message/add/").status_code == 403
    assert admin_client.post(f"/admin/outbox/message/{dead.pk}/change/", {"name": "x"}).status_code == 403
    dead.refresh_from_db()
    assert (dead.name, dead.status) == ("Reçu de paiement", Status.DEAD)
    # Who tried last: this process (a worker's name inside Celery).
    assert dead.claimed_by == f"{socket.gethostname()}:{os.getpid()}"


def test_retry_sends_a_dead_row_again(admin_client, dead, settings):
    settings.OUTBOX_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = admin_client.post(
        "/admin/outbox/message/", {"action": "retry_messages", "_selected_action": [dead.pk]}
    )
    assert response.status_code == 302
    dead.refresh_from_db()
    # Queued again (the admin's transaction hands it over on commit; the worker sends it).
    assert (dead.status, dead.attempts) == (Status.PENDING, 0)
    assert services.redrive(now=timezone.now() + timedelta(seconds=1)) == 1
    dead.refresh_from_db()
    assert dead.status == Status.SENT
    assert [m.subject for m in mail.outbox] == ["Reçu de paiement"]


def test_retry_leaves_rows_that_are_not_dead_alone(outbox_mail):
    EmailMessage(subject="Bienvenue", body="Bonjour", to=["a@acme.test"]).send()
    message = Message.objects.get()
    assert services.retry([message.pk]) == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.PENDING, 0)
