"""The public helpers bulk writers (the renewal sweep) use instead of the invoices app's
internals: numbers reserved on the same locked counter row, the same account-balance lock."""

import pytest
from django.db import connection, transaction

from invoices import issuing, numbering
from invoices.models import InvoiceNumberCounter
from tests.invoices.conftest import NOW


def test_reserved_numbers_are_consecutive_and_shared_with_invoice_create(workspace, make_invoice):
    first = make_invoice(workspace)

    reserved = numbering.reserve_invoice_numbers(issued_at=NOW, count=3)
    after = make_invoice(workspace)

    assert first.number == "INV-2026-000001"
    assert reserved == ["INV-2026-000002", "INV-2026-000003", "INV-2026-000004"]
    assert after.number == "INV-2026-000005"
    assert InvoiceNumberCounter.objects.get(year=2026).last_number == 5


def test_a_rolled_back_reservation_gives_its_numbers_back(workspace, make_invoice):
    reserved = []

    def reserve_then_fail():
        with transaction.atomic():
            reserved.extend(numbering.reserve_invoice_numbers(issued_at=NOW, count=2))
            raise RuntimeError("the batch failed")

    with pytest.raises(RuntimeError):
        reserve_then_fail()

    assert reserved == ["INV-2026-000001", "INV-2026-000002"]

    assert make_invoice(workspace).number == "INV-2026-000001"


@pytest.mark.parametrize("count", [0, -1, True, 1.5])
def test_a_bad_count_is_refused_and_reserves_nothing(db, count):
    with pytest.raises(ValueError, match="count"):
        numbering.reserve_invoice_numbers(issued_at=NOW, count=count)
    assert not InvoiceNumberCounter.objects.filter(last_number__gt=0).exists()


@pytest.mark.django_db(transaction=True)
def test_numbers_are_reserved_only_inside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        numbering.reserve_invoice_numbers(issued_at=NOW, count=1)
    assert not InvoiceNumberCounter.objects.filter(last_number__gt=0).exists()


def _advisory_locks_held() -> set[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT classid::bigint, objid::bigint FROM pg_locks "
            "WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
        )
        return set(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_the_balance_lock_of_each_workspace_is_the_one_invoice_create_takes(
    workspace, other_workspace, make_invoice
):
    # Real transactions: each block's locks end with it.
    with transaction.atomic():
        issuing.account_balances_lock([other_workspace.pk, workspace.pk, workspace.pk])
        bulk = _advisory_locks_held()
    with transaction.atomic():
        make_invoice(workspace)
        make_invoice(other_workspace)
        single = _advisory_locks_held()

    assert len(bulk) == 2  # one per workspace, however often it is named
    assert bulk == single
    with transaction.atomic():
        issuing.account_balances_lock([])
        assert _advisory_locks_held() == set()
