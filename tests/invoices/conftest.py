from datetime import UTC, datetime

import pytest

from tests.factories import InvoiceFactory
from tests.factories import plan_line as plan_line  # for the modules that import it from here

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Stored PDFs go to a per-test folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def make_invoice():
    """Issue an invoice through the service (:class:`~tests.factories.InvoiceFactory`), one
    new source per call."""

    def make(workspace, *lines, now=NOW, source=None, billing_reason="subscription_cycle"):
        options = {"source": source} if source else {}
        return InvoiceFactory(
            workspace=workspace,
            lines=list(lines) or [plan_line()],
            billing_reason=billing_reason,
            issued_at=now,
            **options,
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
