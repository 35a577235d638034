"""Rules the invoice services enforce; messages are constants tests import."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from workspaces.errors import DomainError


class InvoiceError(DomainError):
    code = "invoice_error"


class InvoiceWithoutLines(InvoiceError):
    code = "invoice_without_lines"
    message = _("An invoice needs at least one line.")


class InvoiceLineInvalid(InvoiceError):
    code = "invoice_line_invalid"
    message = _("An invoice line needs a known kind, a description and a whole amount in cents.")


class CreditNoteWithoutInvoice(InvoiceError):
    code = "credit_note_without_invoice"
    message = _("A document that nets below zero is a credit note: it must name the invoice it corrects.")


class UnknownBillingReason(InvoiceError):
    code = "unknown_billing_reason"
    message = _("Unknown billing reason.")


class InvoiceSourceMissing(InvoiceError):
    code = "invoice_source_missing"
    message = _("An invoice needs a source key, so that issuing it twice is impossible.")


class InvoiceImmutable(InvoiceError):
    code = "invoice_immutable"
    message = _("A finalized invoice cannot be changed.")


class InvoiceNotPayable(InvoiceError):
    code = "invoice_not_payable"
    message = _("Only an open or failed invoice can be paid.")


class InvoiceAlreadyPaid(InvoiceError):
    code = "invoice_already_paid"
    message = _("This invoice is already paid.")


class InvoiceNotVoidable(InvoiceError):
    code = "invoice_not_voidable"
    message = _("Only an open or failed invoice can be voided.")


class InvoiceNotRefundable(InvoiceError):
    code = "invoice_not_refundable"
    message = _("Only a paid invoice can be refunded.")


class AccountCreditInvalid(InvoiceError):
    code = "account_credit_invalid"
    message = _("An account credit must be a positive amount in cents.")


class AccountCreditCurrencyMismatch(InvoiceError):
    code = "account_credit_currency_mismatch"
    message = _("The account balance is kept in the workspace's currency.")


class InvoicePdfUnavailable(InvoiceError):
    code = "invoice_pdf_unavailable"
    message = _("A draft invoice has no PDF.")


class AccountBalanceAppendOnly(InvoiceError):
    code = "account_balance_append_only"
    message = _("The account balance history is append-only: add an entry instead.")
