"""Fixtures of the webhook tests: a clock stopped at ``NOW``, signed deliveries that run the
processing task as a worker would after the commit, and invoices charged through the
offline Stripe (the objects an event names must exist there)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine

from billing import services
from config.celery import app as celery_app
from gateways.stripe.tasks import process_stripe_event_task
from invoices.models import Charge, Invoice
from tests.factories import save_card, subscribe
from tests.gateways.webhooks.helpers import post_event, save_card_asking_authentication
from tests.subscriptions.conftest import _media_root, at

__all__ = ["_media_root"]

#: Team Starter bought on 1 April 2026; the tests' deliveries happen on 10 April at 10:00.
SUBSCRIBED = at(2026, 4, 1, 9)
NOW = at(2026, 4, 10, 10)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks) -> Callable[..., list[Any]]:
    """``deliver(event, times=1, secret=None, timestamp=None)``: POST the signed event, then
    run what the request queued after its commit (the processing task, eagerly)."""

    def send(event: dict[str, Any], *, times: int = 1, **signing: Any) -> list[Any]:
        responses = []
        for _ in range(times):
            with django_capture_on_commit_callbacks(execute=True):
                responses.append(post_event(client, event, **signing))
        return responses

    return send


@pytest.fixture
def worker_retries(monkeypatch) -> list[int]:
    """Celery retries as a worker would, run at once (in the suite's eager mode the first
    ``Retry`` surfaces instead); returns the countdowns asked for, in seconds."""
    monkeypatch.setitem(celery_app.conf, "CELERY_TASK_EAGER_PROPAGATES", False)
    countdowns: list[int] = []
    retry = process_stripe_event_task.retry

    def recorded_retry(*args: Any, **kwargs: Any) -> Any:
        countdowns.append(kwargs["countdown"])
        return retry(*args, **kwargs)

    monkeypatch.setattr(process_stripe_event_task, "retry", recorded_retry)
    return countdowns


@dataclass
class Purchase:
    invoice: Invoice
    charge: Charge

    @property
    def intent_id(self) -> str:
        return self.charge.reference

    def refresh(self) -> Purchase:
        self.invoice.refresh_from_db()
        self.charge.refresh_from_db()
        return self


def buy_one_credit_pack(workspace, owner) -> Purchase:
    """One pack of 1 000 000 credits, 6,00 € (5,00 € + 20 % VAT), charged to the card on file."""
    preview = services.preview_customize(workspace=workspace, extra_seats=0, credit_packs=1, now=NOW)
    result = services.apply_customize(
        workspace=workspace, actor=owner, extra_seats=0, credit_packs=1, preview=preview, now=NOW
    )
    assert result.invoice is not None
    return Purchase(result.invoice, Charge.objects.get(invoice=result.invoice))


@pytest.fixture
def team_starter(workspace, owner):
    """Team Starter since 1 April 2026, paid with 4242 4242 4242 4242."""
    save_card(workspace, owner, now=SUBSCRIBED)
    subscribe(workspace, owner, "team-starter", now=SUBSCRIBED)
    return workspace


@pytest.fixture
def pack_awaiting_authentication(team_starter, owner) -> Purchase:
    """A credit pack bought on 10 April with a card whose bank asks to confirm every
    payment: its 6,00 € charge awaits authentication, the credits wait for the payment."""
    save_card_asking_authentication(team_starter, now=NOW)
    purchase = buy_one_credit_pack(team_starter, owner)
    assert (purchase.invoice.status, purchase.charge.status) == ("open", "requires_action")
    assert purchase.charge.reference.startswith("pi_")
    return purchase


@pytest.fixture
def paid_business(workspace, owner) -> Purchase:
    """Business monthly bought on 10 April, 24,00 € (20,00 € + 20 % VAT) paid at once."""
    save_card(workspace, owner, now=NOW)
    result = subscribe(workspace, owner, "business", now=NOW)
    assert result.invoice is not None
    purchase = Purchase(result.invoice, Charge.objects.get(invoice=result.invoice))
    assert (purchase.invoice.status, purchase.invoice.total_cents, purchase.charge.status) == (
        "paid",
        2_400,
        "succeeded",
    )
    return purchase
