"""Consumption order (docs/rules/credits.md#consumption-order): the grant that expires
soonest first, then the oldest, whatever order the grants were recorded in."""

from __future__ import annotations

import datetime as dt

import pytest

from credits import selectors, services
from credits.models import CreditGrant
from tests.credits.conftest import NOW
from tests.credits.helpers import assert_ledger_consistent


@pytest.mark.django_db
def test_the_oldest_grant_goes_first_even_when_it_was_recorded_last(workspace, member):
    services.allowance_ensure_current(workspace=workspace, now=NOW)  # Free: 10 credits this month
    bought = services.credits_grant_purchased(
        workspace=workspace,
        credits=20,
        amount_paid_cents=100,
        currency="EUR",
        source="invoice:3",
        now=NOW - dt.timedelta(days=1),
    )
    # Recorded after the purchase, but granted the day before it: the older of the two.
    gift = services.credits_grant_free(
        workspace=workspace, credits=5, reason="gift", now=NOW - dt.timedelta(days=2)
    )

    services.credits_consume(
        workspace=workspace, actor=member, action="summarize", quantity=17, idempotency_key="k", now=NOW
    )

    # 17 credits: the 10 of the allowance (it expires), then the 5 of the older gift, then 2
    # of the purchase: 20 − 2 = 18 left.
    buckets = selectors.credit_summary(workspace, now=NOW).buckets
    assert (buckets["plan_allowance"], buckets["free"], buckets["purchased"]) == (0, 0, 18)
    assert CreditGrant.objects.get(pk=gift.pk).remaining == 0
    assert CreditGrant.objects.get(pk=bought.pk).remaining == 18
    assert_ledger_consistent(workspace)
