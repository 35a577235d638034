"""``EMAIL_BACKEND``: every email the application sends becomes an outbox row, written in the
sender's transaction; a worker sends it later through ``OUTBOX_EMAIL_BACKEND`` (SMTP from
``EMAIL_URL``). A mail server that is down never fails the request that sent the mail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        from outbox.services import enqueue_email

        count = 0
        for message in email_messages:
            if message.recipients():
                enqueue_email(message)
                count += 1
        return count

    def open(self) -> Any:
        return False

    def close(self) -> None:
        return None
