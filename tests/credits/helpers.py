"""Shared assertions and builders for the credit tests."""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum

from credits.models import CreditBalance, CreditGrant, LedgerEntry


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


def assert_ledger_consistent(workspace) -> None:
    """The cached balance = the ledger sum = what the live grants hold; balance_after chains."""
    ledger = LedgerEntry.objects.filter(workspace=workspace)
    total = ledger.aggregate(total=Sum("amount"))["total"] or 0
    cached = CreditBalance.objects.get(workspace=workspace).balance
    held_by_grants = (
        CreditGrant.objects.filter(
            workspace=workspace, expired_at__isnull=True, revoked_at__isnull=True
        ).aggregate(total=Sum("remaining"))["total"]
        or 0
    )
    assert cached == total == held_by_grants, (cached, total, held_by_grants)
    running = 0
    for amount, balance_after in ledger.order_by("id").values_list("amount", "balance_after"):
        running += amount
        assert balance_after == running, dump_ledger(workspace)


def dump_ledger(workspace) -> list:
    return list(
        LedgerEntry.objects.filter(workspace=workspace)
        .order_by("id")
        .values_list("id", "kind", "amount", "balance_after", "grant_id")
    )
