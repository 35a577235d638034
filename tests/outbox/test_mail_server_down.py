"""With no mail server, signing up still works; the confirmation email goes out once the
mail server is back (finding: signup answered 500 after the user row was committed)."""

from __future__ import annotations

import email
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from outbox import services
from outbox.models import Message, Status
from workspaces.models import User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp_settings(settings, smtp_port):
    settings.EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"
    settings.OUTBOX_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5


def _sign_up(client):
    return client.post(
        "/accounts/signup/",
        {
            "email": "newbie@example.test",
            "password1": "a-Long-passphrase-42",
            "password2": "a-Long-passphrase-42",
        },
    )


def test_signup_answers_without_a_mail_server_and_the_mail_goes_out_when_it_is_back(
    client, smtp_settings, start_smtp
):
    response = _sign_up(client)

    # The request was served: the account exists, the browser is sent to "check your email".
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert User.objects.filter(email="newbie@example.test").exists()
    message = Message.objects.get()
    assert (message.kind, message.status, message.payload["to"]) == (
        "email",
        Status.PENDING,
        ["newbie@example.test"],
    )

    # The worker tries (the test suite runs tasks in place): the mail server refuses the
    # connection, the row waits 30 s for its next attempt.
    message.refresh_from_db()
    assert message.attempts == 1
    assert message.status == Status.PENDING
    assert "Connection refused" in message.last_error or "ConnectionRefused" in message.last_error
    assert message.next_attempt_at - timezone.now() > timedelta(seconds=25)

    inbox = start_smtp()
    assert services.redrive() == 0  # not due yet: nothing is tried before the pause ends
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert services.redrive() == 1

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (Status.SENT, 2, "")
    assert len(inbox.messages) == 1
    received = email.message_from_bytes(inbox.messages[0])
    assert received["To"] == "newbie@example.test"
    body = received.get_payload(decode=True).decode()
    assert re.search(r"/accounts/confirm-email/\S+/", body)
    # Delivered once: a later redrive sends nothing again.
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert services.redrive() == 0
    assert len(inbox.messages) == 1


def test_a_message_is_given_up_after_its_attempts_and_an_operator_retries_it(
    client, smtp_settings, settings, start_smtp
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    _sign_up(client)
    message = Message.objects.get()
    moment = timezone.now()
    for _ in range(2):
        moment += timedelta(hours=1)
        with time_machine.travel(moment):
            services.redrive()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.DEAD, 3)
    with time_machine.travel(moment + timedelta(days=1)):
        assert services.redrive() == 0  # dead rows wait for an operator

    inbox = start_smtp()
    assert services.retry([message.pk]) == 1  # runs the delivery in place (tasks run eagerly here)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 1)
    assert len(inbox.messages) == 1
