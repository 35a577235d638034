"""JSON logs carry the request id, also while a worker delivers what the request queued;
the credits consumed are counted for Prometheus."""

from __future__ import annotations

import json
import logging

import pytest
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django_guid.log_filters import CorrelationId
from prometheus_client import REGISTRY
from pythonjsonlogger.json import JsonFormatter

from credits import services
from outbox import services as outbox
from outbox.models import Message
from tests.factories import MembershipFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db


class Lines(logging.Handler):
    """The production handler's formatter and filter, keeping the lines it writes."""

    def __init__(self) -> None:
        super().__init__()
        formatters: dict[str, dict[str, object]] = settings.LOGGING["formatters"]  # type: ignore[index,assignment]
        options = {k: v for k, v in formatters["json"].items() if k != "()"}
        self.setFormatter(JsonFormatter(**options))  # type: ignore[arg-type]
        self.addFilter(CorrelationId(correlation_id_field="request_id"))
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


def test_a_delivery_logs_under_the_request_id_of_the_request_that_queued_it(client, outbox_mail):
    client.post(
        "/accounts/signup/",
        {
            "email": "newbie@example.test",
            "password1": "a-Long-passphrase-42",
            "password2": "a-Long-passphrase-42",
        },
        HTTP_X_REQUEST_ID="req-signup-42",
    )
    message = Message.objects.get()
    lines = Lines()
    logger = logging.getLogger("outbox.services")
    logger.addHandler(lines)
    try:
        assert outbox.deliver(message.pk) == "sent"
    finally:
        logger.removeHandler(lines)
    [line] = lines.lines
    assert line["request_id"] == "req-signup-42"
    assert line["level"] == "INFO"
    assert line["logger"] == "outbox.services"
    assert line["message"] == f"outbox: email #{message.pk} delivered: {message.name}"


def test_outside_a_request_the_delivery_has_no_request_id(outbox_mail):
    EmailMessage(subject="Bienvenue", body="Bonjour", to=["a@acme.test"]).send()
    message = Message.objects.get()
    assert message.request_id == ""
    lines = Lines()
    logger = logging.getLogger("outbox.services")
    logger.addHandler(lines)
    try:
        outbox.deliver(message.pk)
    finally:
        logger.removeHandler(lines)
    assert [line["request_id"] for line in lines.lines] == [None]


def test_credits_consumed_are_counted(workspace):
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    services.allowance_ensure_current(workspace=workspace, now=timezone.now())
    before = REGISTRY.get_sample_value("seatcredit_credits_consumed_total") or 0.0
    services.credits_consume(
        workspace=workspace, actor=member, action="summarize", quantity=3, idempotency_key="a"
    )
    services.credits_consume(
        workspace=workspace, actor=member, action="summarize", quantity=3, idempotency_key="a"
    )
    assert (
        REGISTRY.get_sample_value("seatcredit_credits_consumed_total") == before + 3
    )  # the replay counts nothing
