"""The outbox on its production path: every email an outbox row, sent by the worker's code
through a real SMTP server (aiosmtpd) or Django's local backend, tasks handed to a broker
that may be down."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from config.celery import app as celery_app


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def outbox_mail(settings):
    """Emails go through the outbox (production's EMAIL_BACKEND), then to Django's local
    backend when a worker delivers them."""
    settings.EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"
    settings.OUTBOX_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def broker_down(settings) -> Iterator[None]:
    """Tasks are published to a broker again (not run in place), one nobody listens on."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    celery_app._after_fork()  # type: ignore[attr-defined]  # forget pooled connections to the previous broker
    yield
    celery_app._after_fork()  # type: ignore[attr-defined]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_port() -> int:
    """A port with no mail server behind it (yet)."""
    return free_port()


@pytest.fixture
def start_smtp(smtp_port) -> Iterator:
    controllers: list[Controller] = []

    def start() -> Inbox:
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()
