"""Rules the invoice services enforce; messages are constants tests import."""

from __future__ import annotations

from typing import Any

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


class AccountBalanceInsufficient(InvoiceError):
    code = "account_balance_insufficient"
    message = _("The account balance holds less than that amount: it never goes below zero.")


class InvoicePdfUnavailable(InvoiceError):
    code = "invoice_pdf_unavailable"
    message = _("A draft invoice has no PDF.")


class AccountBalanceAppendOnly(InvoiceError):
    code = "account_balance_append_only"
    message = _("The account balance history is append-only: add an entry instead.")


class BillingDetailsInvalid(InvoiceError):
    """A billing detail is refused; ``field`` names it (the form shows the message there)."""

    code = "billing_details_invalid"
    message = _("These billing details are not valid.")

    def __init__(self, message: Any = None, *, field: str = "", **details: Any) -> None:
        super().__init__(message, **details)
        self.field = field


class VatNumberInvalid(BillingDetailsInvalid):
    code = "vat_number_invalid"
    message = _("This VAT number is not valid: check its country prefix, its length and its digits.")


class VatNumberCountryMismatch(BillingDetailsInvalid):
    code = "vat_number_country_mismatch"
    message = _("This VAT number belongs to another country than the billing address.")


class VatNumberNotRegistered(BillingDetailsInvalid):
    code = "vat_number_not_registered"
    message = _("This VAT number is not registered in the EU's VIES service.")


class RegistrationNumberInvalid(BillingDetailsInvalid):
    code = "registration_number_invalid"
    message = _("This is neither a valid SIREN (9 digits) nor a valid SIRET (14 digits).")


class RegistrationNumberNotFrench(BillingDetailsInvalid):
    code = "registration_number_not_french"
    message = _("A SIREN or SIRET identifies a French company: leave it empty for another country.")


class BillingEmailInvalid(BillingDetailsInvalid):
    code = "billing_email_invalid"
    message = _("Enter valid email addresses, one per line.")


class CountryUnknown(BillingDetailsInvalid):
    code = "country_unknown"
    message = _("Choose a country from the list.")


class LanguageUnknown(BillingDetailsInvalid):
    code = "billing_language_unknown"
    message = _("Invoices are issued in French or in English.")


class AccountingMonthInvalid(InvoiceError):
    code = "accounting_month_invalid"
    message = _("Choose a month as YYYY-MM, for example 2026-03.")
