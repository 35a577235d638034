"""Which series a document is numbered in, and numbers reserved for a whole batch
(docs/rules/invoices.md#numbering)."""

from __future__ import annotations

from invoices import issuing
from invoices.models import Invoice, InvoiceStatus
from tests.invoices.conftest import NOW, plan_line


def test_a_batch_takes_consecutive_numbers_and_the_next_invoice_follows_them(
    workspace, other_workspace, make_invoice
):
    # The renewal sweep issues many invoices in one batch.
    drafts = [
        issuing.InvoiceDraft(
            buyer=issuing.Buyer.of(ws),
            billing_reason="subscription_cycle",
            source=f"renewal:{n}",
            lines=[plan_line()],
        )
        for n, ws in enumerate([workspace, other_workspace, workspace])
    ]
    batch = issuing.issue_invoices(drafts, now=NOW)
    numbers = [Invoice.objects.get(pk=issued.invoice_id).number for issued in batch]
    assert numbers == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    assert make_invoice(workspace).number == "INV-2026-000004"


def test_a_document_that_nets_to_zero_is_an_invoice_paid_at_issue(workspace, make_invoice):
    # A change to a plan of the same price: the charge and the credit cancel out
    # (docs/rules/proration.md#plan-changes).
    invoice = make_invoice(
        workspace,
        plan_line(1_000),
        plan_line(-1_000, kind="credit", quantity=-1, unit_amount_cents=1_000),
    )
    assert (invoice.subtotal_cents, invoice.vat_cents, invoice.total_cents) == (0, 0, 0)
    assert invoice.number == "INV-2026-000001"
    assert invoice.status == InvoiceStatus.PAID
