from datetime import UTC, datetime
from typing import Any

import pytest

from billing import services as billing
from invoices.totals import DraftLine

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def plan_line(amount_cents: int = 24_000, **overrides) -> DraftLine:
    fields: dict[str, Any] = {
        "kind": "plan",
        "description": "Business, 30 of 30 days × 240,00 €",
        "amount_cents": amount_cents,
        "quantity": 1,
        "unit_amount_cents": amount_cents,
        "period_start": datetime(2026, 3, 1, tzinfo=UTC),
        "period_end": datetime(2026, 3, 31, tzinfo=UTC),
        "metadata": {"plan": "business"},
    }
    fields.update(overrides)
    return DraftLine(**fields)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Stored PDFs go to a per-test folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def make_invoice():
    """Issue an invoice through the service, one new source per call."""
    counter = iter(range(1, 10_000))

    def make(workspace, *lines, now=NOW, source=None, billing_reason="subscription_cycle"):
        return billing.invoice_issue(
            workspace=workspace,
            lines=list(lines) or [plan_line()],
            billing_reason=billing_reason,
            source=source or f"test:{next(counter)}",
            now=now,
        )

    return make


@pytest.fixture
def hook_calls(monkeypatch):
    """Record the billing hooks the invoice services call (and still run them)."""
    from billing.services import settlement

    calls = []
    paid, refunded = settlement.settle_paid, settlement.settle_refunded

    def on_paid(*, invoice, now):
        calls.append(("paid", invoice.pk, now))
        return paid(invoice=invoice, now=now)

    def on_refunded(*, invoice, now):
        calls.append(("refunded", invoice.pk, now))
        return refunded(invoice=invoice, now=now)

    monkeypatch.setattr(settlement, "settle_paid", on_paid)
    monkeypatch.setattr(settlement, "settle_refunded", on_refunded)
    return calls
