"""A worker killed after the mail server accepted a message and before the row was marked
sent: the message goes out again once the lease lapses, as the same message — the same
Message-ID, which receivers use to drop the copy (docs/architecture.md#outbox: delivery
is at least once). The smoke run's drill relies on exactly this."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone

from outbox import services
from outbox.models import Message, Status

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, no ``except Exception`` catches it."""


def test_the_copy_sent_again_after_the_kill_is_the_same_message(outbox_mail, monkeypatch, settings):
    settings.OUTBOX_LEASE_SECONDS = 10
    row = services.enqueue_email(
        EmailMessage(subject="Acme a utilisé 80 % de son allocation", body="…", to=["ada@acme.test"])
    )
    real_run = services._run

    def accepted_then_killed(message: Message) -> None:
        real_run(message)  # the mail server has the message
        raise WorkerKilled()  # …and the worker dies before marking the row

    monkeypatch.setattr(services, "_run", accepted_then_killed)
    with pytest.raises(WorkerKilled):
        services.deliver(row.pk)
    monkeypatch.setattr(services, "_run", real_run)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert services.redrive() == 0  # the dead worker's lease still holds the row
    with time_machine.travel(timezone.now() + timedelta(seconds=11)):
        assert services.redrive() == 1

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 2)
    first, again = (m.message() for m in mail.outbox)
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"].startswith(f"<outbox.{row.pk}.")
    assert first["Subject"] == again["Subject"]
