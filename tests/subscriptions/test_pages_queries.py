"""Each subscription page runs the same number of SQL queries whatever the data size:
1 vs 1,000 invoices and a handful vs 100,000 credit ledger entries (a query budget that does not grow with the data)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credits.models import LedgerEntry
from invoices.models import Invoice
from tests.subscriptions.test_pages_support import (
    NOW,
    bulk_invoices,
    bulk_ledger,
    buy_credits,
    seed_001_workspace,
)

pytestmark = pytest.mark.django_db

#: (URL name, query string, htmx headers, most queries allowed)
PAGES = [
    ("subscription_overview", "", {}, 30),
    ("subscription_overview", "", {"HX-Request": "true", "HX-Target": "subscription-tabs"}, 30),
    ("subscription_credits", "", {"HX-Request": "true"}, 15),
    ("subscription_billing", "", {}, 16),
    ("subscription_billing", "?invoices_page=2&purchases_page=3", {}, 16),
    ("subscription_billing", "?invoices_page=2", {"HX-Request": "true", "HX-Target": "invoices-card"}, 16),
    ("subscription_settings", "", {}, 12),
    ("subscription_plans", "", {}, 14),
    ("subscription_customize", "", {}, 40),
    ("subscription_customize_summary", "?extra_seats=7&credit_packs=3", {"HX-Request": "true"}, 40),
    ("subscription_annual", "", {"HX-Request": "true"}, 40),
    ("subscription_cancel", "", {"HX-Request": "true"}, 14),
]


@pytest.fixture(autouse=True)
def _at_now(pages_at_now):
    """Every test of this module runs at ``NOW``."""


@pytest.mark.parametrize(
    ("name", "query", "headers", "budget"),
    PAGES,
    ids=[f"{p[0]}{p[1]}{'-htmx' if p[2] else ''}" for p in PAGES],
)
def test_page_queries_do_not_grow_with_the_data(
    client,
    workspace,
    other_workspace,
    django_assert_num_queries,
    django_assert_max_num_queries,
    name,
    query,
    headers,
    budget,
):
    team = seed_001_workspace(workspace)
    buy_credits(workspace, credits=3_000_000, paid_cents=1_500, when=NOW, source="invoice:first")
    owner = team["owner"]
    client.force_login(owner.user)
    url = reverse(name, args=[workspace.pk]) + query
    assert client.get(url, headers=headers).status_code == 200  # warm-up: session, caches
    assert Invoice.objects.filter(workspace=workspace).count() == 1

    with django_assert_max_num_queries(budget), CaptureQueriesContext(connection) as small:
        small_response = client.get(url, headers=headers)
    assert small_response.status_code == 200

    bulk_invoices(workspace, 999)
    bulk_ledger(workspace, 100_000)
    bulk_invoices(other_workspace, 50)
    assert Invoice.objects.filter(workspace=workspace).count() == 1_000
    assert LedgerEntry.objects.filter(workspace=workspace).count() > 100_000

    with django_assert_num_queries(len(small)):
        large_response = client.get(url, headers=headers)
    assert large_response.status_code == 200
    if name == "subscription_billing" and not headers:
        # The big data is really on the page: ten invoices out of 1,000 (100 pages).
        assert "Page 2 sur 100" in large_response.content.decode() or "Page 1 sur 100" in (
            large_response.content.decode()
        )
