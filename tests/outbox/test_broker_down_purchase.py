"""A purchase whose charge Stripe cannot answer, with the broker down too: the request
still answers (its change applied, the invoice open), and the charge's retry waits in the
outbox for the next redrive (finding: no request fails after its commit because of the
broker; docs/rules/payments.md#charging-an-invoice)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from billing import services
from invoices.models import InvoiceStatus
from outbox.models import Message, Status
from subscriptions.models import PendingChange, PendingChangeState, Subscription
from tests.factories import VISA_OK, price_id, save_card
from tests.gateways.stripe.support import Network

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_purchase_stripe_cannot_answer_queues_its_retry_in_the_outbox_with_the_broker_down(
    workspace, owner, settings, monkeypatch, broker_down
):
    now = timezone.now()
    save_card(workspace, number=VISA_OK, now=now)
    preview = services.preview_subscribe(workspace=workspace, price_id=price_id("business"), now=now)
    Network(settings, monkeypatch).down()

    result = services.apply_subscribe(
        workspace=workspace, actor=owner, price_id=price_id("business"), preview=preview, now=now
    )

    assert result.invoice is not None
    assert result.invoice.status == InvoiceStatus.OPEN
    retry = Message.objects.get(kind="task", name="billing.tasks.charge_invoice_task")
    assert (retry.name, retry.payload, retry.status) == (
        "billing.tasks.charge_invoice_task",
        [result.invoice.pk, 1, now.isoformat()],
        Status.PENDING,
    )
    assert (retry.next_attempt_at - retry.created_at).total_seconds() == pytest.approx(60, abs=1)
    # The change waits for the charge's answer (docs/rules/lifecycle.md#pay-then-apply).
    assert Subscription.objects.get(workspace=workspace).plan.code == "free"
    assert PendingChange.objects.get(invoice=result.invoice).state == PendingChangeState.WAITING
