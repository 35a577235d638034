"""Invoice numbers: gap-free per calendar year, assigned at finalization, safe under concurrency."""

import threading
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from invoices import errors, issuing
from invoices.models import Invoice
from tests.factories import WorkspaceFactory
from tests.invoices.conftest import plan_line


def test_numbers_are_consecutive_across_workspaces(workspace, other_workspace, make_invoice):
    first = make_invoice(workspace)
    second = make_invoice(other_workspace)
    third = make_invoice(workspace)
    assert [first.number, second.number, third.number] == [
        "INV-2026-000001",
        "INV-2026-000002",
        "INV-2026-000003",
    ]


def test_the_number_is_assigned_at_finalization(workspace, make_invoice):
    invoice = make_invoice(workspace)
    assert invoice.status == "open"
    assert invoice.issued_at is not None
    assert Invoice.objects.filter(number__isnull=False).count() == 1


def test_numbering_restarts_each_calendar_year(workspace, make_invoice):
    with time_machine.travel(datetime(2026, 12, 31, 12, 0, tzinfo=UTC), tick=False):
        december = [make_invoice(workspace, now=timezone.now()).number for _ in range(2)]
    with time_machine.travel(datetime(2027, 1, 1, 10, 0, tzinfo=UTC), tick=False):
        january = [make_invoice(workspace, now=timezone.now()).number for _ in range(2)]
    with time_machine.travel(datetime(2027, 2, 1, 10, 0, tzinfo=UTC), tick=False):
        february = make_invoice(workspace, now=timezone.now()).number
    assert december == ["INV-2026-000001", "INV-2026-000002"]
    assert january == ["INV-2027-000001", "INV-2027-000002"]
    assert february == "INV-2027-000003"


def test_the_year_is_the_sellers_local_year(workspace, make_invoice):
    # 23:30 UTC on 31 December is 00:30 on 1 January in Paris (SELLER_TIME_ZONE).
    with time_machine.travel(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), tick=False):
        new_year_in_paris = make_invoice(workspace, now=timezone.now())
    assert new_year_in_paris.number == "INV-2027-000001"


def test_a_rolled_back_invoice_gives_its_number_back(workspace, make_invoice):
    issued = []

    def issue_then_fail():
        with transaction.atomic():
            issued.append(make_invoice(workspace).number)
            raise RuntimeError("the charge setup failed")

    with pytest.raises(RuntimeError):
        issue_then_fail()
    assert issued == ["INV-2026-000001"]
    assert make_invoice(workspace).number == "INV-2026-000001"


def test_refused_input_consumes_no_number(workspace, make_invoice):
    with pytest.raises(errors.CreditNoteWithoutInvoice):
        make_invoice(workspace, plan_line(-100))
    assert make_invoice(workspace).number == "INV-2026-000001"


@pytest.mark.django_db(transaction=True)
def test_finalizing_200_invoices_from_8_threads_yields_200_distinct_consecutive_numbers(monkeypatch):
    """Gap-free numbering under real parallel transactions, one connection per thread."""
    monkeypatch.setattr(issuing, "queue_pdf_renders", lambda invoice_ids: None)
    threads_count, per_thread = 8, 25
    workspaces = [WorkspaceFactory(name=f"Parallel {i}") for i in range(threads_count)]
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    start = threading.Barrier(threads_count)
    numbers: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def finalize(index: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                invoice = issuing.invoice_create(
                    workspace=workspaces[index],
                    lines=[plan_line(1_000 + n)],
                    billing_reason="subscription_cycle",
                    source=f"parallel:{index}:{n}",
                    now=now,
                )
                with lock:
                    numbers.append(str(invoice.number))
        except BaseException as exc:  # reported below, the test must see it
            with lock:
                failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=finalize, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    expected = [f"INV-2026-{n:06d}" for n in range(1, threads_count * per_thread + 1)]
    assert len(set(numbers)) == len(numbers) == 200
    assert sorted(numbers) == expected
    assert sorted(Invoice.objects.values_list("number", flat=True)) == expected
