"""Acme's demo credits: 30 days of usage and two purchases (one free), idempotent."""

from __future__ import annotations

import pytest

from credits import selectors
from credits.models import GrantBucket, LedgerEntry
from demo.credits import seed_acme_credits
from tests.credits.helpers import assert_ledger_consistent, utc
from tests.factories import subscribe
from workspaces import demo

NOW = utc(2026, 3, 25, 16)


@pytest.mark.django_db
def test_seed_acme_credits_is_idempotent_and_shows_the_spec_figures():
    acme = demo.seed_acme()
    subscribe(acme, plan="team-starter", now=utc(2026, 1, 12, 9))
    seed_acme_credits(acme, now=NOW)
    entries = LedgerEntry.objects.filter(workspace=acme).count()
    seed_acme_credits(acme, now=NOW)
    assert LedgerEntry.objects.filter(workspace=acme).count() == entries

    summary = selectors.credit_summary(acme, now=NOW)
    assert summary.allowance == 28_000_000
    assert summary.remaining_percent == "80.61"  # the Overview card: "80,61 %", "22,6 M sur 28 M"
    series = selectors.usage_series(acme, today=NOW.date())
    assert len(series) == 30
    assert sum(1 for point in series if point.credits) == 30
    # The welcome grant; the extra credit pack is bought through billing, with its invoice
    # (demo.acme's history).
    history = list(selectors.purchase_history(acme))
    assert [(g.bucket, g.amount, g.amount_paid_cents) for g in history] == [(GrantBucket.FREE, 500_000, 0)]
    assert_ledger_consistent(acme)


@pytest.mark.django_db
def test_seed_on_free_still_works():
    acme = demo.seed_acme()
    seed_acme_credits(acme, now=NOW)
    assert [g.amount for g in selectors.purchase_history(acme)] == [500]
    assert_ledger_consistent(acme)
