"""With the broker down, a consumption that crosses an allowance threshold still answers 200
(finding: it would answer 500 for a charge that went through); its notice goes out later,
once, and a workspace's 80 % and 100 % notices go out in that order under concurrency."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from credits import apikeys, services
from credits.models import CreditNotice
from outbox import services as outbox
from outbox.models import Message, Status
from tests.credits.helpers import assert_ledger_consistent
from tests.factories import MembershipFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(workspace):
    """The workspace's API key and a member to bill; the Free allowance is 10 credits."""
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    workspace.billing_email = "compta@acme.test"
    workspace.save()
    services.allowance_ensure_current(workspace=workspace, now=timezone.now())
    _key, key = apikeys.api_key_create(workspace=workspace, actor=None, name="Host product")

    def consume(idempotency_key: str, quantity: int = 1):
        return Client().post(
            f"/api/v1/workspaces/{workspace.pk}/credits/consume",
            json.dumps({"action": "summarize", "quantity": quantity, "user": member.user.email}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
            HTTP_IDEMPOTENCY_KEY=idempotency_key,
        )

    return consume


def _subjects() -> list[str]:
    return [str(message.subject) for message in mail.outbox]


def test_a_consumption_crossing_a_threshold_answers_200_with_the_broker_down(
    workspace, api, outbox_mail, broker_down
):
    response = api("crosses-80", quantity=8)

    assert response.status_code == 200, response.content
    assert response.json()["balance"] == 2
    # The notice is recorded and its email task waits in the outbox; nothing was sent.
    assert list(CreditNotice.objects.values_list("threshold", flat=True)) == [80]
    task = Message.objects.get()
    assert (task.kind, task.name, task.status, task.attempts) == (
        "task", "credits.tasks.send_credit_notice", Status.PENDING, 0,
    )  # fmt: skip
    assert mail.outbox == []

    # Beat's redrive: the task runs; its email is an outbox row of its own (the broker is
    # still down), sent by the next redrive.
    assert outbox.redrive() == 1
    assert mail.outbox == []
    assert outbox.redrive() == 1
    assert _subjects() == ["Acme Test a utilisé 80 % de son allocation de crédits d’IA"]
    assert sorted(mail.outbox[0].to) == sorted(
        [workspace.memberships.get(role=Role.OWNER).user.email, "compta@acme.test"]
    )
    assert outbox.redrive() == 0
    assert len(mail.outbox) == 1
    assert_ledger_consistent(workspace)


def test_80_and_100_percent_notices_go_out_in_order_whatever_the_workers_do(
    workspace, api, outbox_mail, broker_down
):
    # Ten requests at once, one credit each, on a 10-credit allowance: one of them crosses
    # 80 %, another 100 %.
    def consume(n: int) -> int:
        try:
            return api(f"k{n}").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(consume, range(10)))
    assert statuses == [200] * 10
    assert sorted(CreditNotice.objects.values_list("threshold", flat=True)) == [80, 100]
    tasks = list(Message.objects.order_by("pk").values_list("pk", flat=True))
    assert len(tasks) == 2

    # A worker takes the 100 % task first: it waits for the 80 % one, which hands over to
    # it once done. Their two emails are then rows of one stream (the same addresses):
    # taken newest first as well, they still go out oldest first.
    assert [outbox.deliver(pk) for pk in reversed(tasks)] == ["skipped", "sent"]
    emails = list(Message.objects.filter(kind="email").order_by("pk").values_list("pk", flat=True))
    assert len(emails) == 2
    assert [outbox.deliver(pk) for pk in reversed(emails)] == ["skipped", "sent"]

    assert _subjects() == [
        "Acme Test a utilisé 80 % de son allocation de crédits d’IA",
        "Acme Test a utilisé toute son allocation de crédits d’IA",
    ]
    assert set(Message.objects.values_list("status", flat=True)) == {Status.SENT}
    assert outbox.redrive() == 0
    assert len(mail.outbox) == 2
    assert_ledger_consistent(workspace)
