"""Writes on issued invoices and on the account balance (docs/rules/invoices.md).

Invoices are created and finalized by :mod:`invoices.issuing`, the one issuing path; a
finalized invoice only moves through its payment states (open → paid / failed / void,
paid → refunded). Its amounts, number and lines never change: these services refuse it
and database triggers refuse it as well.

Lock order, the same everywhere so concurrent calls cannot deadlock: the workspace's
account-balance lock (a transaction-scoped advisory lock), then the invoice row, then
the yearly number counter row (taken last, held until commit, so that numbering is
gap-free: a rolled-back transaction also rolls back its number).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from audit.models import Kind as AuditKind
from audit.services import record_changes as audit_record_changes
from domain.checks import is_int
from invoices import billing_details as details_rules
from invoices import errors, pdf, selectors
from invoices.display import present_invoice
from invoices.issuing import account_balances_lock, cancellation_draft, issue_invoices, queue_receipts
from invoices.models import (
    PAYABLE_STATUSES,
    AccountBalanceEntry,
    BillingDetails,
    BillingLanguage,
    Invoice,
    InvoiceStatus,
)
from workspaces import permissions
from workspaces.errors import PermissionDenied
from workspaces.models import Membership, Workspace
from workspaces.selectors import billing_contacts

logger = logging.getLogger(__name__)


def _lock_account_balance(workspace_id: object) -> None:
    """Serialize writers of one workspace's account balance until the transaction ends."""
    account_balances_lock([workspace_id])


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


def _queue_receipt(invoice_id: int) -> None:
    queue_receipts([invoice_id])


@transaction.atomic
def invoice_mark_paid(*, invoice: Invoice, now: datetime, payment_reference: str = "") -> Invoice:
    """Record the payment of an open or failed invoice; a paid invoice is returned unchanged.

    Sends the receipt with the PDF after commit. What the payment grants is settled by
    the billing layer that calls this (:mod:`billing.services.settlement`).
    """
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.PAID:
        return invoice
    if invoice.status not in PAYABLE_STATUSES:
        raise errors.InvoiceNotPayable()
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = now
    invoice.payment_reference = payment_reference or invoice.payment_reference
    invoice.next_payment_attempt_at = None
    invoice.save(update_fields=["status", "paid_at", "payment_reference", "next_payment_attempt_at"])
    _queue_receipt(invoice.pk)
    return invoice


@transaction.atomic
def invoice_mark_payment_failed(
    *,
    invoice: Invoice,
    now: datetime,
    next_attempt_at: datetime | None,
    reason: str,
    past_due_since: datetime | None = None,
) -> Invoice:
    """Record a failed charge: the invoice is ``failed``, one more attempt counted, the
    next retry scheduled (docs/rules/dunning.md) or none, and the date of its first
    failure kept (its retries count from it)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.PAID:
        raise errors.InvoiceAlreadyPaid()
    if invoice.status not in PAYABLE_STATUSES:
        raise errors.InvoiceNotPayable()
    invoice.status = InvoiceStatus.FAILED
    invoice.attempt_count += 1
    invoice.next_payment_attempt_at = next_attempt_at
    invoice.payment_failure_message = reason
    invoice.past_due_since = invoice.past_due_since or past_due_since or now
    invoice.save(
        update_fields=[
            "status",
            "attempt_count",
            "next_payment_attempt_at",
            "payment_failure_message",
            "past_due_since",
        ]
    )
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, now: datetime) -> Invoice:
    """Cancel an unpaid (open or failed) invoice: it becomes void, a credit note of its
    whole amount cancels it, and the account credit it consumed is given back
    (docs/rules/invoices.md#cancelling-an-unpaid-invoice).

    Its number stays used (numbering is gap-free: a void invoice keeps its number).
    Voiding a void invoice returns it unchanged.
    """
    _lock_account_balance(invoice.workspace_id)
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.VOID:
        return invoice
    if invoice.status not in PAYABLE_STATUSES:
        raise errors.InvoiceNotVoidable()
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = now
    invoice.next_payment_attempt_at = None
    invoice.save(update_fields=["status", "voided_at", "next_payment_attempt_at"])
    _give_back_applied_credit(invoice, reason="invoice_voided", suffix="void", now=now)
    issue_invoices([cancellation_draft(invoice)], now=now)
    return invoice


@transaction.atomic
def invoice_refund(*, invoice: Invoice, now: datetime) -> Invoice:
    """Mark a paid invoice refunded (the gateway refund is the caller's); the account credit
    it consumed goes back to the balance. What the payment granted is taken back by the
    billing layer that calls this (:mod:`billing.services.settlement`)."""
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
    unused time, docs/rules/proration.md#credits-for-unused-time); the next invoices consume it
    automatically. Idempotent on ``(workspace, source)``."""
    return _balance_move(
        workspace=workspace, amount_cents=amount_cents, currency=currency, reason=reason, source=source,
        now=now, taken_back=False,
    )  # fmt: skip


@transaction.atomic
def account_balance_debit(
    *, workspace: Workspace, amount_cents: int, currency: str, reason: str, source: str, now: datetime
) -> AccountBalanceEntry:
    """Take money back from the workspace's account balance (an operator correcting a
    credit given by mistake); refused beyond what the balance holds, as the balance never
    goes below zero. Idempotent on ``(workspace, source)``."""
    return _balance_move(
        workspace=workspace, amount_cents=amount_cents, currency=currency, reason=reason, source=source,
        now=now, taken_back=True,
    )  # fmt: skip


def _balance_move(
    *,
    workspace: Workspace,
    amount_cents: int,
    currency: str,
    reason: str,
    source: str,
    now: datetime,
    taken_back: bool,
) -> AccountBalanceEntry:
    if not is_int(amount_cents) or amount_cents <= 0:
        raise errors.AccountCreditInvalid()
    if currency != workspace.currency:
        raise errors.AccountCreditCurrencyMismatch()
    if not source.strip() or not reason.strip():
        raise errors.InvoiceSourceMissing()
    _lock_account_balance(workspace.pk)
    existing = AccountBalanceEntry.objects.filter(workspace=workspace, source=source).first()
    if existing is not None:
        return existing
    if taken_back and selectors.account_balance_cents(workspace) < amount_cents:
        raise errors.AccountBalanceInsufficient()
    return _append_balance_entry(
        workspace=workspace,
        amount_cents=-amount_cents if taken_back else amount_cents,
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
    digest = hashlib.sha256(content).hexdigest()
    storage = invoice.pdf.storage
    name = storage.save(
        invoice.pdf.field.generate_filename(invoice, invoice.pdf_filename), ContentFile(content)
    )
    # The file and its SHA-256 are recorded together, once (the database refuses to change
    # either afterwards).
    if Invoice.objects.filter(pk=invoice.pk, pdf="").update(pdf=name, pdf_sha256=digest) == 0:
        storage.delete(name)
        invoice.refresh_from_db(fields=["pdf", "pdf_sha256"])
        return invoice
    invoice.pdf.name = name
    invoice.pdf_sha256 = digest
    return invoice


@transaction.atomic
def billing_details_update(
    *,
    workspace: Workspace,
    actor: Membership,
    legal_name: str,
    street: str,
    postal_code: str,
    city: str,
    country: str,
    billing_email: str,
    extra_emails: str,
    vat_number: str,
    registration_number: str,
    purchase_order: str,
    language: str,
    now: datetime,
) -> BillingDetails:
    """Save who the workspace's next documents are made out to
    (docs/rules/invoices.md#billing-details). Every detail is checked first; a refused one
    raises :class:`errors.BillingDetailsInvalid` naming its field and nothing is saved.
    Documents already issued keep the details they were issued with. The details that
    changed, before and after, are written to the audit trail (none if none changed)."""
    if actor.workspace_id != workspace.pk or not permissions.allows(
        actor.role, permissions.Capability.MANAGE_BILLING_DETAILS
    ):
        raise PermissionDenied(permissions.REFUSAL_MESSAGES[permissions.Capability.MANAGE_BILLING_DETAILS])
    country = details_rules.clean_country(country)
    vat_number = details_rules.clean_vat_number(vat_number, country)
    registration_number = details_rules.clean_registration_number(registration_number, country)
    [billing_email, *_more] = details_rules.clean_emails(billing_email, field="billing_email") or [""]
    if _more:
        raise errors.BillingEmailInvalid(field="billing_email")
    extra = details_rules.clean_emails(extra_emails, field="extra_emails")
    if language not in BillingLanguage.values:
        raise errors.LanguageUnknown(field="language")
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    before = selectors.billing_details_values(
        workspace, BillingDetails.objects.filter(workspace=workspace).first() or BillingDetails()
    )
    workspace.country = country
    workspace.vat_number = vat_number
    workspace.billing_email = billing_email
    workspace.save(update_fields=["country", "vat_number", "billing_email"])
    details, _created = BillingDetails.objects.update_or_create(
        workspace=workspace,
        defaults={
            "legal_name": legal_name.strip(),
            "street": "\n".join(line.strip() for line in street.splitlines() if line.strip()),
            "postal_code": postal_code.strip(),
            "city": city.strip(),
            "registration_number": registration_number,
            "purchase_order": purchase_order.strip(),
            "extra_emails": "\n".join(extra),
            "language": language,
            "updated_at": now,
        },
    )
    audit_record_changes(
        kind=AuditKind.WORKSPACE_SETTINGS_CHANGED, workspace=workspace, actor=actor.user,
        object_type="billing_details", object_id=workspace.pk, object_repr=workspace.name,
        before=before, after=selectors.billing_details_values(workspace, details), now=now,
    )  # fmt: skip
    return details


def invoice_receipt_send(*, invoice: Invoice, now: datetime) -> bool:
    """Email the payment receipt, with the invoice's stored PDF and the receipt's PDF
    attached, once per paid invoice.

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
        recipients = selectors.document_recipients(invoice.workspace, billing_contacts(invoice.workspace))
        if recipients:
            with translation.override(invoice.language):
                view = present_invoice(invoice)
                subject = _("Payment receipt — invoice %(number)s") % {"number": invoice.number}
                body = render_to_string("invoices/email/receipt.txt", {"invoice": view})
            message = EmailMessage(subject=subject, body=body, to=recipients)
            with invoice.pdf.open("rb") as stored:
                message.attach(invoice.pdf_filename, stored.read(), "application/pdf")
            message.attach(invoice.receipt_filename, pdf.render_receipt_pdf(invoice), "application/pdf")
            message.send()
    except Exception:
        Invoice.objects.filter(pk=invoice.pk).update(receipt_sent_at=None)
        raise
    return bool(recipients)
