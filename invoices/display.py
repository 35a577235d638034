"""An invoice as people read it: money, dates and statuses formatted for a locale.

The details page, the PDF and the receipt email all read this, so an amount reads the
same everywhere. Dates are the seller's calendar dates (the invoice's legal dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import get_language

from domain.vat import REVERSE_CHARGE_MENTION_EN, REVERSE_CHARGE_MENTION_FR
from invoices.line_words import line_words
from invoices.models import DocumentType, Invoice, InvoiceLine, InvoiceStatus
from workspaces.formatting import format_date, format_money, format_percent


@dataclass(frozen=True)
class LineView:
    """A line in the reader's language: its words, and quantity × unit price × fraction =
    amount column by column (docs/rules/invoices.md#line-words)."""

    kind: str
    kind_label: str
    description: str
    quantity: str
    unit_amount: str
    fraction: str
    amount: str
    formula: str
    period: str
    is_credit: bool


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    #: "Invoice" or "Credit note", in the reader's language.
    title: str
    is_credit_note: bool
    #: The number of the invoice a credit note corrects.
    corrects_number: str
    number: str
    status: str
    status_label: str
    issued_on: str
    due_on: str
    paid_on: str
    lines: list[LineView]
    subtotal: str
    vat_rate: str
    vat: str
    total: str
    account_credit_applied: str
    amount_due: str
    reverse_charge: bool
    reverse_charge_mentions: tuple[str, str]
    seller_address_lines: list[str]


def _date(moment: datetime | None, locale: str) -> str:
    if moment is None:
        return ""
    return format_date(moment.astimezone(ZoneInfo(settings.SELLER_TIME_ZONE)).date(), locale, "long")


def _line(line: InvoiceLine, currency: str, locale: str) -> LineView:
    period = ""
    if line.period_start and line.period_end:
        period = f"{_date(line.period_start, locale)} – {_date(line.period_end, locale)}"
    words = line_words(line, currency=currency, language=locale)
    return LineView(
        kind=line.kind,
        kind_label=str(line.get_kind_display()),
        description=words.description,
        quantity=words.quantity,
        unit_amount=words.unit_price,
        fraction=words.fraction,
        amount=words.amount,
        formula=words.formula,
        period=period,
        is_credit=line.amount_cents < 0,
    )


def present_invoice(invoice: Invoice, locale: str | None = None) -> InvoiceView:
    """Format ``invoice`` for ``locale`` (default: the active language)."""
    locale = locale or get_language() or settings.LANGUAGE_CODE
    currency = invoice.currency

    def money(cents: int) -> str:
        return format_money(cents, currency, locale)

    is_credit_note = invoice.document_type == DocumentType.CREDIT_NOTE
    return InvoiceView(
        invoice=invoice,
        title=str(DocumentType(invoice.document_type).label),
        is_credit_note=is_credit_note,
        corrects_number=(invoice.corrects.number or "") if is_credit_note and invoice.corrects else "",
        number=invoice.number or "",
        status=invoice.status,
        status_label=str(InvoiceStatus(invoice.status).label),
        issued_on=_date(invoice.issued_at, locale),
        due_on=_date(invoice.due_at, locale),
        paid_on=_date(invoice.paid_at, locale),
        lines=[_line(line, currency, locale) for line in invoice.lines.all()],
        subtotal=money(invoice.subtotal_cents),
        vat_rate=format_percent(invoice.vat_rate_bp, 10_000, locale),
        vat=money(invoice.vat_cents),
        total=money(invoice.total_cents),
        account_credit_applied=money(invoice.account_credit_applied_cents),
        amount_due=money(invoice.amount_due_cents),
        reverse_charge=invoice.reverse_charge,
        reverse_charge_mentions=(REVERSE_CHARGE_MENTION_FR, REVERSE_CHARGE_MENTION_EN),
        seller_address_lines=[line for line in invoice.seller_address.splitlines() if line.strip()],
    )
