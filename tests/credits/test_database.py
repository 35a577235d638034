"""The database itself refuses what the ledger forbids, whatever the client (raw SQL)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from credits import services
from credits.models import CreditBalance, CreditGrant, LedgerEntry, Reservation
from tests.credits.helpers import utc

NOW = utc(2026, 3, 10, 9)


@pytest.fixture
def ledger(workspace):
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    return LedgerEntry.objects.get(workspace=workspace)


def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE credits_ledgerentry SET amount = 1000 WHERE id = %s",
        "UPDATE credits_ledgerentry SET note = 'edited' WHERE id = %s",
        "DELETE FROM credits_ledgerentry WHERE id = %s",
    ],
)
def test_ledger_entries_cannot_be_updated_or_deleted(ledger, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(statement, [ledger.pk])
    entry = LedgerEntry.objects.get(pk=ledger.pk)
    assert (entry.amount, entry.note) == (10, "allowance")


@pytest.mark.django_db
def test_the_orm_cannot_delete_a_ledger_entry_either(ledger):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=ledger.pk).delete()
    assert LedgerEntry.objects.filter(pk=ledger.pk).exists()


@pytest.mark.django_db
def test_a_grant_cannot_go_negative(ledger):
    grant = CreditGrant.objects.get(workspace=ledger.workspace)
    with pytest.raises(IntegrityError, match="credit_grant_remaining_not_negative"):
        _raw("UPDATE credits_creditgrant SET remaining = -1 WHERE id = %s", [grant.pk])
    with pytest.raises(IntegrityError, match="credit_grant_remaining_within_amount"):
        _raw("UPDATE credits_creditgrant SET remaining = amount + 1 WHERE id = %s", [grant.pk])
    assert CreditGrant.objects.get(pk=grant.pk).remaining == 10


@pytest.mark.django_db
def test_the_balance_cannot_go_negative(ledger):
    with pytest.raises(IntegrityError, match="credit_balance_not_negative"):
        _raw(
            "UPDATE credits_creditbalance SET balance = balance - 11 WHERE workspace_id = %s",
            [ledger.workspace_id],
        )
    with pytest.raises(IntegrityError, match="credit_ledger_balance_not_negative"):
        _raw(
            "INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, request_hash, note, created_at)"
            " VALUES (%s, 'consume', -11, -1, '', '', now())",
            [ledger.workspace_id],
        )
    assert CreditBalance.objects.get(workspace=ledger.workspace).balance == 10


@pytest.mark.django_db
def test_an_idempotency_key_is_unique_per_workspace(ledger, other_workspace):
    insert = (
        "INSERT INTO credits_ledgerentry (workspace_id, kind, amount, balance_after, idempotency_key, request_hash,"
        " note, created_at) VALUES (%s, 'consume', 0, 10, 'same', '', '', now())"
    )
    _raw(insert, [ledger.workspace_id])
    with pytest.raises(IntegrityError, match="credit_ledger_idempotency_key"):
        _raw(insert, [ledger.workspace_id])
    services.allowance_ensure_current(workspace=other_workspace, now=NOW)
    _raw(insert, [other_workspace.pk])


@pytest.mark.django_db
def test_one_live_allowance_per_bucket_and_allowances_must_expire(ledger):
    insert = (
        "INSERT INTO credits_creditgrant (workspace_id, bucket, amount, remaining, expires_at, source,"
        " amount_paid_cents, currency, reason, created_at) VALUES (%s, %s, 5, 5, %s, '', 0, 'EUR', '', now())"
    )
    with pytest.raises(IntegrityError, match="credit_grant_one_live_allowance"):
        _raw(insert, [ledger.workspace_id, "plan_allowance", NOW])
    with pytest.raises(IntegrityError, match="credit_grant_expiry_by_bucket"):
        _raw(insert, [ledger.workspace_id, "addon_allowance", None])
    with pytest.raises(IntegrityError, match="credit_grant_expiry_by_bucket"):
        _raw(insert, [ledger.workspace_id, "purchased", NOW])


@pytest.mark.django_db
def test_deleting_a_user_keeps_their_ledger_entries(workspace, member):
    services.allowance_ensure_current(workspace=workspace, now=NOW)
    held = services.credits_reserve(
        workspace=workspace, actor=member, action="summarize", idempotency_key="r", now=NOW
    )
    services.credits_consume(
        workspace=workspace, actor=member, action="summarize", idempotency_key="c", now=NOW
    )
    user_id = member.user_id
    member.user.delete()
    assert LedgerEntry.objects.filter(workspace=workspace, actor_id=user_id).count() == 2
    assert Reservation.objects.get(pk=held.reservation.pk).actor_id is None
