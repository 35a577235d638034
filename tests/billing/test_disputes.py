"""A disputed payment (docs/rules/payments.md#disputes): the purchased credits it bought
are held while the dispute is open, come back if it is won and stay taken if it is lost;
operators are alerted; each dispute is acted on once whatever its events' number."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request

import pytest
from django.conf import settings
from django.core import mail

from billing import services
from credits.selectors import ledger_sum as balance_of
from gateways.stripe.client import client
from invoices.models import Charge
from subscriptions.models import EventKind, SubscriptionEvent
from tests.factories import subscribe
from tests.subscriptions.conftest import at

pytestmark = pytest.mark.django_db


def _offline(path: str, **fields: str) -> dict:
    request = urllib.request.Request(
        settings.STRIPE_API_BASE + path, data=urllib.parse.urlencode(fields).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _deliver(http, event_type: str, dispute: dict, captured) -> None:
    event = {
        "id": f"evt_{dispute['id']}_{event_type}_{time.time_ns()}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": dispute},
    }
    payload = json.dumps(event)
    stamp = int(time.time())
    secret = settings.STRIPE_WEBHOOK_SECRETS[0]
    signature = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    with captured(execute=True):
        response = http.post(
            "/webhooks/stripe/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=f"t={stamp},v1={signature}",
        )
    assert response.status_code == 200


@pytest.fixture
def pack_bought(billed_workspace, owner):
    """Pro monthly, then 2 packs of extra credits bought and paid (their credits granted)."""
    subscribe(billed_workspace, owner, "pro", now=at(2026, 3, 1, 9))
    now = at(2026, 3, 2, 10)
    preview = services.preview_customize(workspace=billed_workspace, extra_seats=0, credit_packs=2, now=now)
    result = services.apply_customize(
        workspace=billed_workspace,
        actor=owner,
        extra_seats=0,
        credit_packs=2,
        preview=preview.confirmation,
        now=now,
    )
    assert result.payment is not None
    assert result.payment.succeeded
    charge = Charge.objects.get(invoice=result.invoice)
    intent = client().v1.payment_intents.retrieve(charge.reference)
    latest = intent.latest_charge
    charge_id = latest if isinstance(latest, str) else latest["id"]
    return billed_workspace, charge, charge_id


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("Operators", "ops@seatcredit.test")]


def test_a_dispute_holds_the_credits_bought_and_a_won_one_gives_them_back(
    client, pack_bought, admins, django_capture_on_commit_callbacks
):
    workspace, charge, charge_id = pack_bought
    before = balance_of(workspace)
    dispute = _offline("/_config/disputes", charge=charge_id, status="needs_response")

    _deliver(client, "charge.dispute.created", dispute, django_capture_on_commit_callbacks)
    _deliver(client, "charge.dispute.created", dispute, django_capture_on_commit_callbacks)  # again

    held = SubscriptionEvent.objects.get(workspace=workspace, kind=EventKind.PAYMENT_DISPUTED)
    assert held.data["credits_held"] > 0
    assert balance_of(workspace) == before - held.data["credits_held"]
    alerts = [m for m in mail.outbox if m.to == ["ops@seatcredit.test"]]
    assert len(alerts) == 1
    assert "Payment disputed" in alerts[0].subject

    won = _offline("/_config/disputes", id=dispute["id"], status="won")
    _deliver(client, "charge.dispute.closed", won, django_capture_on_commit_callbacks)
    _deliver(client, "charge.dispute.closed", won, django_capture_on_commit_callbacks)  # again

    assert balance_of(workspace) == before
    closed = SubscriptionEvent.objects.get(workspace=workspace, kind=EventKind.DISPUTE_CLOSED)
    assert closed.data["won"] is True
    assert closed.data["credits_given_back"] == held.data["credits_held"]


def test_a_lost_dispute_keeps_the_credits_taken(
    client, pack_bought, admins, django_capture_on_commit_callbacks
):
    workspace, charge, charge_id = pack_bought
    before = balance_of(workspace)
    dispute = _offline("/_config/disputes", charge=charge_id, status="needs_response")
    _deliver(client, "charge.dispute.created", dispute, django_capture_on_commit_callbacks)
    held = SubscriptionEvent.objects.get(workspace=workspace, kind=EventKind.PAYMENT_DISPUTED).data[
        "credits_held"
    ]

    lost = _offline("/_config/disputes", id=dispute["id"], status="lost")
    _deliver(client, "charge.dispute.closed", lost, django_capture_on_commit_callbacks)

    assert balance_of(workspace) == before - held
    assert (
        SubscriptionEvent.objects.get(workspace=workspace, kind=EventKind.DISPUTE_CLOSED).data["won"] is False
    )


def test_a_closing_event_seen_first_still_holds_then_settles_once(
    client, pack_bought, admins, django_capture_on_commit_callbacks
):
    workspace, charge, charge_id = pack_bought
    before = balance_of(workspace)
    dispute = _offline("/_config/disputes", charge=charge_id, status="won")

    _deliver(client, "charge.dispute.closed", dispute, django_capture_on_commit_callbacks)
    _deliver(client, "charge.dispute.created", dispute, django_capture_on_commit_callbacks)

    assert balance_of(workspace) == before
    assert SubscriptionEvent.objects.filter(workspace=workspace, kind=EventKind.PAYMENT_DISPUTED).count() == 1
    assert SubscriptionEvent.objects.filter(workspace=workspace, kind=EventKind.DISPUTE_CLOSED).count() == 1
