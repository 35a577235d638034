"""Exports of invoices (docs/rules/invoices.md): a workspace's CSV, the accounting export of
a month and the ZIP of its documents."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision
from django.conf import settings
from django.utils import translation
from django.utils.translation import pgettext

from invoices import errors, selectors, services
from invoices.models import BillingReason, DocumentType, Invoice, InvoiceStatus
from workspaces.models import Workspace


def _amount(cents: int, currency: str) -> str:
    # Machine-readable ("159.00"): spreadsheets and accounting tools parse it in any locale.
    return str(Decimal(cents).scaleb(-get_currency_precision(currency)))


def invoices_csv(workspace: Workspace) -> str:
    """One row per finalized invoice of ``workspace``, newest first; headers in the active language."""
    zone = ZoneInfo(settings.SELLER_TIME_ZONE)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            pgettext("invoice", "Number"),
            pgettext("invoice", "Issue date"),
            pgettext("invoice", "Due date"),
            pgettext("invoice", "Status"),
            pgettext("invoice", "Reason"),
            pgettext("invoice", "Subtotal excl. VAT"),
            pgettext("invoice", "VAT rate (%)"),
            pgettext("invoice", "VAT"),
            pgettext("invoice", "Total incl. VAT"),
            pgettext("invoice", "Account credit applied"),
            pgettext("invoice", "Amount due"),
            pgettext("invoice", "Currency"),
            pgettext("invoice", "Paid on"),
            pgettext("invoice", "Reverse charge"),
        ]
    )
    for invoice in selectors.invoices_of(workspace).prefetch_related(None):
        currency = invoice.currency
        writer.writerow(
            [
                invoice.number,
                invoice.issued_at.astimezone(zone).date().isoformat() if invoice.issued_at else "",
                invoice.due_at.astimezone(zone).date().isoformat() if invoice.due_at else "",
                InvoiceStatus(invoice.status).label,
                BillingReason(invoice.billing_reason).label,
                _amount(invoice.subtotal_cents, currency),
                str(Decimal(invoice.vat_rate_bp).scaleb(-2)),
                _amount(invoice.vat_cents, currency),
                _amount(invoice.total_cents, currency),
                _amount(invoice.account_credit_applied_cents, currency),
                _amount(invoice.amount_due_cents, currency),
                currency,
                invoice.paid_at.astimezone(zone).date().isoformat() if invoice.paid_at else "",
                "1" if invoice.reverse_charge else "0",
            ]
        )
    return out.getvalue()


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> tuple[int, int]:
    """``"2026-03"`` → ``(2026, 3)``; anything else is refused."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
        raise errors.AccountingMonthInvalid()
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class AccountingRow:
    """One line of the accounting export: a document's amounts at one VAT rate."""

    date: str
    number: str
    kind: str
    customer: str
    vat_number: str
    account: str
    excluding_vat: str
    vat_rate: str
    vat: str
    including_vat: str
    currency: str


def _decimal(cents: int, currency: str, language: str) -> str:
    text = str(Decimal(cents).scaleb(-get_currency_precision(currency)))
    return text.replace(".", ",") if language == "fr" else text


def accounting_rows(documents: Iterable[Invoice], language: str) -> list[AccountingRow]:
    """One row per document and VAT rate (one rate per document today), credit notes
    negative, in the seller's dates (docs/rules/invoices.md#accounting-export)."""
    zone = ZoneInfo(settings.SELLER_TIME_ZONE)
    rows = []
    with translation.override(language):
        for document in documents:
            if document.issued_at is None:  # a draft is no document
                continue
            day = document.issued_at.astimezone(zone).date()
            currency = document.currency
            rows.append(
                AccountingRow(
                    date=day.strftime("%d/%m/%Y") if language == "fr" else day.isoformat(),
                    number=document.number or "",
                    kind=str(DocumentType(document.document_type).label),
                    customer=document.buyer_name,
                    vat_number=document.buyer_vat_number,
                    account=(
                        settings.ACCOUNTING_SALES_ACCOUNT_REVERSE_CHARGE
                        if document.reverse_charge
                        else settings.ACCOUNTING_SALES_ACCOUNT
                    ),
                    excluding_vat=_decimal(document.subtotal_cents, currency, language),
                    vat_rate=_decimal(
                        0 if document.reverse_charge else document.vat_rate_bp, "EUR", language
                    ),
                    vat=_decimal(document.vat_cents, currency, language),
                    including_vat=_decimal(document.total_cents, currency, language),
                    currency=currency,
                )
            )
    return rows


def accounting_csv(documents: Iterable[Invoice], language: str) -> str:
    """The accounting export as CSV: in French, semicolons and decimal commas, as French
    spreadsheets and accounting tools read them; in English, commas and decimal points."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if language == "fr" else ",")
    with translation.override(language):
        writer.writerow(
            [
                pgettext("accounting", "Date"),
                pgettext("accounting", "Number"),
                pgettext("accounting", "Type"),
                pgettext("accounting", "Customer"),
                pgettext("accounting", "Customer VAT number"),
                pgettext("accounting", "Account"),
                pgettext("accounting", "Excl. VAT"),
                pgettext("accounting", "VAT rate (%)"),
                pgettext("accounting", "VAT"),
                pgettext("accounting", "Incl. VAT"),
                pgettext("accounting", "Currency"),
            ]
        )
    for row in accounting_rows(documents, language):
        writer.writerow(
            [
                row.date,
                row.number,
                row.kind,
                row.customer,
                row.vat_number,
                row.account,
                row.excluding_vat,
                row.vat_rate,
                row.vat,
                row.including_vat,
                row.currency,
            ]
        )
    return out.getvalue()


def documents_zip(documents: list[Invoice], *, csv_name: str, language: str) -> bytes:
    """A ZIP of the documents' stored PDFs (each rendered first if it was not yet) and their
    accounting export. Rendering is slow: never call it inside a transaction."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(csv_name, accounting_csv(documents, language))
        for document in documents:
            stored = services.invoice_pdf_ensure(invoice=document)
            with stored.pdf.open("rb") as pdf:
                archive.writestr(stored.pdf_filename, pdf.read())
    return buffer.getvalue()


def month_filename(year: int, month: int, extension: str, language: str) -> str:
    """``comptabilite-2026-03.csv`` / ``factures-2026-03.zip`` (French), ``accounting-…`` / ``invoices-…``."""
    stem = {"csv": ("comptabilite", "accounting"), "zip": ("factures", "invoices")}[extension]
    return f"{stem[0] if language == 'fr' else stem[1]}-{year:04d}-{month:02d}.{extension}"


def month_documents(workspace: Workspace | None, year: int, month: int) -> list[Invoice]:
    return list(selectors.documents_of_month(workspace, year, month))


def month_of(moment: datetime) -> str:
    """The seller's month of an instant, as the export's ``YYYY-MM``."""
    return moment.astimezone(ZoneInfo(settings.SELLER_TIME_ZONE)).strftime("%Y-%m")
