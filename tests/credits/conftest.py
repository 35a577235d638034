"""Credit fixtures: a funded workspace, and what a refused request must leave untouched."""

from __future__ import annotations

import pytest

from credits.models import CreditBalance, CreditGrant, DailyUsage, LedgerEntry, Reservation
from tests.credits.helpers import utc
from tests.factories import CreditBalanceFactory, PurchasedCreditsFactory

NOW = utc(2026, 3, 10, 9)


@pytest.fixture
def funded(workspace):
    """The workspace's Free allowance (10) plus 100 purchased credits."""
    CreditBalanceFactory(workspace=workspace, created_at=NOW)
    PurchasedCreditsFactory(
        workspace=workspace, amount=100, amount_paid_cents=500, source="invoice:1", created_at=NOW
    )
    return workspace


def _snapshot(workspace):
    return (
        LedgerEntry.objects.filter(workspace=workspace).count(),
        CreditBalance.objects.get(workspace=workspace).balance,
        list(
            CreditGrant.objects.filter(workspace=workspace).order_by("id").values_list("remaining", flat=True)
        ),
        Reservation.objects.filter(workspace=workspace).count(),
        list(DailyUsage.objects.filter(workspace=workspace).values_list("credits_used", flat=True)),
    )
