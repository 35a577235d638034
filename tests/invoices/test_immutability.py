"""A finalized invoice never changes: refused in code and by the database."""

import pytest
from django.db import IntegrityError, connection, transaction

from invoices import errors
from invoices.models import Invoice, InvoiceLine
from tests.factories import DraftInvoiceFactory, DraftInvoiceLineFactory
from tests.invoices.conftest import NOW


def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@pytest.fixture
def invoice(workspace, make_invoice):
    return make_invoice(workspace)


def test_code_refuses_to_change_a_finalized_invoice(invoice):
    loaded = Invoice.objects.get(pk=invoice.pk)
    loaded.total_cents = 1
    with pytest.raises(errors.InvoiceImmutable):
        loaded.save()
    loaded = Invoice.objects.get(pk=invoice.pk)
    loaded.status = "draft"
    with pytest.raises(errors.InvoiceImmutable):
        loaded.save()
    with pytest.raises(errors.InvoiceImmutable):
        Invoice.objects.get(pk=invoice.pk).delete()
    assert Invoice.objects.get(pk=invoice.pk).total_cents == 28_800


def test_code_refuses_to_add_change_or_delete_lines(invoice):
    line = invoice.lines.get()
    line.amount_cents = 1
    with pytest.raises(errors.InvoiceImmutable):
        line.save()
    with pytest.raises(errors.InvoiceImmutable):
        InvoiceLine.objects.create(invoice=invoice, kind="credit", description="discount", amount_cents=-100)
    with pytest.raises(errors.InvoiceImmutable):
        invoice.lines.get().delete()
    assert list(invoice.lines.values_list("amount_cents", flat=True)) == [24_000]


def test_payment_state_may_still_change(invoice):
    loaded = Invoice.objects.get(pk=invoice.pk)
    loaded.payment_reference = "ref-1"
    loaded.attempt_count = 1
    loaded.save()
    assert (
        _raw("UPDATE invoices_invoice SET status = 'failed', paid_at = NULL WHERE id = %s", [invoice.pk]) == 1
    )
    assert Invoice.objects.get(pk=invoice.pk).status == "failed"


@pytest.mark.parametrize(
    "assignment",
    [
        "total_cents = 1",
        "amount_due_cents = 0, account_credit_applied_cents = total_cents",
        "number = 'INV-2026-999999'",
        "vat_cents = 0, total_cents = subtotal_cents, amount_due_cents = subtotal_cents",
        "buyer_name = 'Someone else'",
        "status = 'draft'",
    ],
)
def test_database_refuses_a_raw_update_of_a_finalized_invoice(invoice, assignment):
    with pytest.raises(IntegrityError, match="finalized"):
        _raw(f"UPDATE invoices_invoice SET {assignment} WHERE id = %s", [invoice.pk])  # noqa: S608
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert (fresh.number, fresh.total_cents, fresh.status) == (invoice.number, 28_800, "open")


def test_database_refuses_raw_changes_to_the_lines(invoice):
    line_id = invoice.lines.get().pk
    statements = [
        ("UPDATE invoices_invoiceline SET amount_cents = 1 WHERE id = %s", [line_id]),
        ("DELETE FROM invoices_invoiceline WHERE id = %s", [line_id]),
        (
            "INSERT INTO invoices_invoiceline (invoice_id, position, kind, description, quantity, amount_cents,"
            " metadata) VALUES (%s, 9, 'credit', 'sneaky discount', 1, -100, '{}')",
            [invoice.pk],
        ),
    ]
    for sql, params in statements:
        with pytest.raises(IntegrityError, match="finalized"):
            _raw(sql, params)
    assert list(InvoiceLine.objects.filter(invoice=invoice).values_list("amount_cents", flat=True)) == [
        24_000
    ]


def test_database_refuses_deleting_a_finalized_invoice(invoice):
    with pytest.raises(IntegrityError, match="finalized"):
        _raw("DELETE FROM invoices_invoice WHERE id = %s", [invoice.pk])
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_a_draft_can_still_be_edited(workspace):
    # Drafts only exist inside invoice_create's transaction; the guard is about finalization.
    draft = DraftInvoiceFactory(workspace=workspace, source="d", created_at=NOW)
    line = DraftInvoiceLineFactory(invoice=draft, kind="plan", description="Plan", amount_cents=100)
    assert _raw("UPDATE invoices_invoiceline SET amount_cents = 200 WHERE id = %s", [line.pk]) == 1
    assert _raw("UPDATE invoices_invoice SET subtotal_cents = 200, total_cents = 200, amount_due_cents = 200"
                " WHERE id = %s", [draft.pk]) == 1  # fmt: skip
    line.refresh_from_db()
    assert line.amount_cents == 200


def test_the_database_trigger_protects_the_columns_the_code_protects():
    # The migration keeps its own frozen copy of the list (migrations never import models);
    # this keeps the two from drifting apart.
    import importlib

    from invoices.models import PROTECTED_FIELDS

    migration = importlib.import_module("invoices.migrations.0008_facturx_and_billing_details")
    assert migration.PROTECTED_INVOICE_COLUMNS == PROTECTED_FIELDS
