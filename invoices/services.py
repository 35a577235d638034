"""Writes on invoices and on the account balance (SPEC.md "Invoices", CONTRACTS.md "invoices").

Invoices are created and finalized in one transaction by :func:`invoice_create`; a
finalized invoice only moves through its payment states (open → paid / failed / void,
paid → refunded). Its amounts, number and lines never change: these services refuse it
and database triggers refuse it as well.

Lock order, the same everywhere so concurrent calls cannot deadlock: the workspace's
account-balance lock (a transaction-scoped advisory lock), then the invoice row, then
the yearly number counter row (taken last, held until commit, so that numbering is
gap-free: a rolled-back transaction also rolls back its number).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from invoices import errors, pdf, selectors
from invoices.models import (
    AccountBalanceEntry,
    BillingReason,
    Invoice,
    InvoiceLine,
    InvoiceNumberCounter,
    InvoiceStatus,
    LineKind,
)
from invoices.totals import DraftLine, compute_totals
from workspaces.models import Membership, Role, Workspace

logger = logging.getLogger(__name__)

#: First key of the advisory locks that serialize a workspace's account balance.
_ACCOUNT_BALANCE_LOCK = 7_310_001

_PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.FAILED)


def _lock_account_balance(workspace_id: object) -> None:
    """Serialize writers of one workspace's account balance until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_ACCOUNT_BALANCE_LOCK, str(workspace_id)]
        )


def account_balances_lock(workspace_ids: Sequence[object]) -> None:
    """Take the account-balance lock of each workspace, until the transaction ends.

    The lock :func:`invoice_create` and :func:`account_balance_credit` take, for bulk
    writers (the renewal sweep) that apply account credit themselves: taken in one
    statement, in a fixed order (by the workspace id's text), so two bulk writers never
    deadlock each other. Call it inside a transaction, before any invoice row or number.
    """
    keys = sorted({str(w) for w in workspace_ids})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(w)) FROM unnest(%s::text[]) AS w ORDER BY w",
            [_ACCOUNT_BALANCE_LOCK, keys],
        )


def _append_balance_entry(
    *,
    workspace: Workspace,
    amount_cents: int,
    currency: str,
    reason: str,
    source: str,
    now: datetime,
    invoice: Invoice | None = None,
) -> AccountBalanceEntry:
    # The caller holds the workspace's account-balance lock: the balance cannot move under us.
    balance_after = selectors.account_balance_cents(workspace) + amount_cents
    return AccountBalanceEntry.objects.create(
        workspace=workspace,
        amount_cents=amount_cents,
        currency=currency,
        reason=reason,
        source=source,
        invoice=invoice,
        created_at=now,
        balance_after_cents=balance_after,
    )


def number_year(issued_at: datetime) -> int:
    """The calendar year an invoice is numbered in: the seller's local year of issue."""
    return issued_at.astimezone(ZoneInfo(settings.SELLER_TIME_ZONE)).year


def reserve_invoice_numbers(*, issued_at: datetime, count: int) -> list[str]:
    """``count`` consecutive numbers of the year of ``issued_at``, ``INV-2026-000001``…;
    gap-free and unique under concurrency.

    The year's counter row is locked (``SELECT … FOR UPDATE``) until the transaction
    ends: concurrent finalizations wait for each other, and a rollback gives the numbers
    back. Take it last (after the account-balance locks and the invoice rows, the lock
    order of this module) and only inside a transaction that finalizes the invoices.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    if not connection.in_atomic_block:
        raise RuntimeError("invoice numbers are reserved inside the transaction that finalizes the invoices")
    year = number_year(issued_at)
    InvoiceNumberCounter.objects.bulk_create([InvoiceNumberCounter(year=year)], ignore_conflicts=True)
    counter = InvoiceNumberCounter.objects.select_for_update().get(year=year)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return [f"INV-{year}-{n:06d}" for n in range(first, first + count)]


def _next_number(issued_at: datetime) -> str:
    """The next number of the year (see :func:`reserve_invoice_numbers`)."""
    return reserve_invoice_numbers(issued_at=issued_at, count=1)[0]


def _validate_lines(lines: Sequence[DraftLine]) -> None:
    if not lines:
        raise errors.InvoiceWithoutLines()
    for line in lines:
        amounts_are_ints = all(
            isinstance(v, int) and not isinstance(v, bool)
            for v in (line.amount_cents, line.quantity, line.unit_amount_cents or 0)
        )
        periods_are_aware = all(
            p is None or timezone.is_aware(p) for p in (line.period_start, line.period_end)
        )
        if (
            line.kind not in LineKind.values
            or not str(line.description).strip()
            or not amounts_are_ints
            or not periods_are_aware
            or (line.period_start and line.period_end and line.period_end < line.period_start)
        ):
            raise errors.InvoiceLineInvalid()


@transaction.atomic
def invoice_create(
    *, workspace: Workspace, lines: Sequence[DraftLine], billing_reason: str, source: str, now: datetime
) -> Invoice:
    """Create and finalize an invoice in one go (CONTRACTS.md "invoices").

    Totals follow :func:`invoices.totals.compute_totals` with the workspace's VAT context
    and its current account balance; the applied account credit is consumed (a negative
    ledger entry); the number is assigned now, at finalization. The invoice is open, or
    paid at once when nothing is left to pay (then the paid hooks run as for any
    payment). A net credit is refused: it belongs on the account balance.

    Idempotent on ``(workspace, source)``: a second call with the same source returns
    the first invoice unchanged.
    """
    if not source.strip():
        raise errors.InvoiceSourceMissing()
    if billing_reason not in BillingReason.values:
        raise errors.UnknownBillingReason()
    _validate_lines(lines)

    _lock_account_balance(workspace.pk)
    existing = selectors.invoice_by_source(workspace, source)
    if existing is not None:
        return existing

    vat_rate_bp, reverse_charge = selectors.vat_context(workspace)
    totals = compute_totals(
        lines,
        vat_rate_bp=vat_rate_bp,
        reverse_charge=reverse_charge,
        account_balance_cents=selectors.account_balance_cents(workspace),
    )
    if totals.total_cents < 0:
        raise errors.NegativeInvoiceTotal()

    invoice = Invoice.objects.create(
        workspace=workspace,
        currency=workspace.currency,
        status=InvoiceStatus.DRAFT,
        billing_reason=billing_reason,
        source=source,
        created_at=now,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=position,
            kind=line.kind,
            description=line.description,
            quantity=line.quantity,
            unit_amount_cents=line.unit_amount_cents,
            amount_cents=line.amount_cents,
            period_start=line.period_start,
            period_end=line.period_end,
            metadata=dict(line.metadata),
        )
        for position, line in enumerate(lines)
    )
    if totals.account_credit_applied_cents:
        _append_balance_entry(
            workspace=workspace,
            amount_cents=-totals.account_credit_applied_cents,
            currency=workspace.currency,
            reason="applied_to_invoice",
            source=f"invoice:{invoice.pk}:applied",
            invoice=invoice,
            now=now,
        )

    invoice.subtotal_cents = totals.subtotal_cents
    invoice.vat_rate_bp = totals.vat_rate_bp
    invoice.vat_cents = totals.vat_cents
    invoice.reverse_charge = totals.reverse_charge
    invoice.total_cents = totals.total_cents
    invoice.account_credit_applied_cents = totals.account_credit_applied_cents
    invoice.amount_due_cents = totals.amount_due_cents
    invoice.seller_name = settings.SELLER_NAME
    invoice.seller_address = settings.SELLER_ADDRESS
    invoice.seller_country = settings.SELLER_COUNTRY
    invoice.seller_vat_number = settings.SELLER_VAT_NUMBER
    invoice.seller_siren = settings.SELLER_SIREN
    invoice.buyer_name = workspace.name
    invoice.buyer_email = workspace.billing_email
    invoice.buyer_country = workspace.country
    invoice.buyer_vat_number = workspace.vat_number
    invoice.issued_at = now
    # Cards on file are charged at issue: the invoice is payable on receipt.
    invoice.due_at = now
    invoice.number = _next_number(now)
    paid_now = totals.amount_due_cents == 0
    invoice.status = InvoiceStatus.PAID if paid_now else InvoiceStatus.OPEN
    invoice.paid_at = now if paid_now else None
    invoice.save()

    invoice_id = invoice.pk
    transaction.on_commit(lambda: _queue_pdf_render(invoice_id), robust=True)
    if paid_now:
        _after_paid(invoice, now)
    return invoice


def _queue_pdf_render(invoice_id: int) -> None:
    from invoices.tasks import render_invoice_pdf_task

    render_invoice_pdf_task.delay(invoice_id)


def _queue_receipt(invoice_id: int) -> None:
    from invoices.tasks import send_invoice_receipt_task

    send_invoice_receipt_task.delay(invoice_id)


def _after_paid(invoice: Invoice, now: datetime) -> None:
    # Explicit hook, no signals (CONTRACTS.md): purchased credits follow payment and a
    # past_due subscription becomes active again.
    from billing.services import on_invoice_paid

    on_invoice_paid(invoice=invoice, now=now)
    invoice_id = invoice.pk
    transaction.on_commit(lambda: _queue_receipt(invoice_id), robust=True)


@transaction.atomic
def invoice_mark_paid(*, invoice: Invoice, now: datetime, payment_reference: str = "") -> Invoice:
    """Record the payment of an open or failed invoice; a paid invoice is returned unchanged.

    Runs the billing hook (purchased credits are granted only once their invoice is
    paid, seed 001) and sends the receipt with the PDF after commit.
    """
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.PAID:
        return invoice
    if invoice.status not in _PAYABLE:
        raise errors.InvoiceNotPayable()
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = now
    invoice.payment_reference = payment_reference or invoice.payment_reference
    invoice.next_payment_attempt_at = None
    invoice.save(update_fields=["status", "paid_at", "payment_reference", "next_payment_attempt_at"])
    _after_paid(invoice, now)
    return invoice


@transaction.atomic
def invoice_mark_payment_failed(
    *, invoice: Invoice, now: datetime, next_attempt_at: datetime | None, reason: str
) -> Invoice:
    """Record a failed charge: the invoice is ``failed``, one more attempt counted, and the
    next retry scheduled (dunning, SPEC.md "Subscription lifecycle") or none."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.PAID:
        raise errors.InvoiceAlreadyPaid()
    if invoice.status not in _PAYABLE:
        raise errors.InvoiceNotPayable()
    invoice.status = InvoiceStatus.FAILED
    invoice.attempt_count += 1
    invoice.next_payment_attempt_at = next_attempt_at
    invoice.payment_failure_message = reason
    invoice.save(
        update_fields=["status", "attempt_count", "next_payment_attempt_at", "payment_failure_message"]
    )
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, now: datetime) -> Invoice:
    """Void an unpaid (open or failed) invoice; the account credit it consumed is given back.

    Its number stays used (numbering is gap-free: a void invoice keeps its number).
    Voiding a void invoice returns it unchanged.
    """
    _lock_account_balance(invoice.workspace_id)
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.VOID:
        return invoice
    if invoice.status not in _PAYABLE:
        raise errors.InvoiceNotVoidable()
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = now
    invoice.next_payment_attempt_at = None
    invoice.save(update_fields=["status", "voided_at", "next_payment_attempt_at"])
    _give_back_applied_credit(invoice, reason="invoice_voided", suffix="void", now=now)
    return invoice


@transaction.atomic
def invoice_refund(*, invoice: Invoice, now: datetime) -> Invoice:
    """Mark a paid invoice refunded (the gateway refund is the caller's); the account credit
    it consumed goes back to the balance, and the billing hook takes back what the payment
    granted (seed 001: a refund takes back unconsumed purchased credits)."""
    _lock_account_balance(invoice.workspace_id)
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.REFUNDED:
        return invoice
    if invoice.status != InvoiceStatus.PAID:
        raise errors.InvoiceNotRefundable()
    invoice.status = InvoiceStatus.REFUNDED
    invoice.refunded_at = now
    invoice.save(update_fields=["status", "refunded_at"])
    _give_back_applied_credit(invoice, reason="invoice_refunded", suffix="refund", now=now)

    from billing.services import on_invoice_refunded

    on_invoice_refunded(invoice=invoice, now=now)
    return invoice


def _give_back_applied_credit(invoice: Invoice, *, reason: str, suffix: str, now: datetime) -> None:
    if invoice.account_credit_applied_cents:
        _append_balance_entry(
            workspace=invoice.workspace,
            amount_cents=invoice.account_credit_applied_cents,
            currency=invoice.currency,
            reason=reason,
            source=f"invoice:{invoice.pk}:{suffix}",
            invoice=invoice,
            now=now,
        )


@transaction.atomic
def account_balance_credit(
    *, workspace: Workspace, amount_cents: int, currency: str, reason: str, source: str, now: datetime
) -> AccountBalanceEntry:
    """Credit money to the workspace's account balance (a downgrade's or a seat removal's
    unused time, SPEC.md "Subscription lifecycle"); the next invoices consume it
    automatically. Idempotent on ``(workspace, source)``."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise errors.AccountCreditInvalid()
    if currency != workspace.currency:
        raise errors.AccountCreditCurrencyMismatch()
    if not source.strip() or not reason.strip():
        raise errors.InvoiceSourceMissing()
    _lock_account_balance(workspace.pk)
    existing = AccountBalanceEntry.objects.filter(workspace=workspace, source=source).first()
    if existing is not None:
        return existing
    return _append_balance_entry(
        workspace=workspace,
        amount_cents=amount_cents,
        currency=currency,
        reason=reason,
        source=source,
        now=now,
    )


def invoice_pdf_ensure(*, invoice: Invoice) -> Invoice:
    """The invoice with its PDF stored: rendered once, on the first need, then never again.

    Rendering takes a noticeable fraction of a second, so it runs outside any
    transaction; the file is attached with a conditional update, so when two renders
    race (the task and a first download) the first stored file wins and the other is
    discarded.
    """
    if invoice.pdf:
        return invoice
    invoice = Invoice.objects.select_related("workspace").get(pk=invoice.pk)
    if invoice.pdf:
        return invoice
    if invoice.status == InvoiceStatus.DRAFT:
        raise errors.InvoicePdfUnavailable()
    content = pdf.render_invoice_pdf(invoice)
    storage = invoice.pdf.storage
    name = storage.save(
        invoice.pdf.field.generate_filename(invoice, invoice.pdf_filename), ContentFile(content)
    )
    if Invoice.objects.filter(pk=invoice.pk, pdf="").update(pdf=name) == 0:
        storage.delete(name)
        invoice.refresh_from_db(fields=["pdf"])
        return invoice
    invoice.pdf.name = name
    return invoice


def receipt_recipients(workspace: Workspace) -> list[str]:
    """The owner and admins, and the billing email: who receives receipts."""
    emails = Membership.objects.filter(workspace=workspace, role__in=(Role.OWNER, Role.ADMIN)).values_list(
        "user__email", flat=True
    )
    unique = {e.strip().lower(): e.strip() for e in [*emails, workspace.billing_email] if e and e.strip()}
    return sorted(unique.values(), key=str.lower)


def invoice_receipt_send(*, invoice: Invoice, now: datetime) -> bool:
    """Email the payment receipt with the PDF attached, once per paid invoice.

    Returns whether an email was sent now. The invoice is claimed before sending (so two
    workers never both send it) and released again if sending fails, for a retry.
    """
    claimed = Invoice.objects.filter(
        pk=invoice.pk, status=InvoiceStatus.PAID, receipt_sent_at__isnull=True
    ).update(receipt_sent_at=now)
    if not claimed:
        return False
    try:
        invoice = invoice_pdf_ensure(invoice=invoice)
        recipients = receipt_recipients(invoice.workspace)
        if recipients:
            with translation.override(invoice.language):
                from invoices.display import present_invoice

                view = present_invoice(invoice)
                subject = _("Payment receipt — invoice %(number)s") % {"number": invoice.number}
                body = render_to_string("invoices/email/receipt.txt", {"invoice": view})
            message = EmailMessage(subject=subject, body=body, to=recipients)
            with invoice.pdf.open("rb") as stored:
                message.attach(invoice.pdf_filename, stored.read(), "application/pdf")
            message.send()
    except Exception:
        Invoice.objects.filter(pk=invoice.pk).update(receipt_sent_at=None)
        raise
    return bool(recipients)
