"""An invoice as people read it: money, dates and statuses formatted for a locale.

The details page, the PDF and the receipt email all read this, so an amount reads the
same everywhere. Dates are the seller's calendar dates (the invoice's legal dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from django.conf import settings
from django.utils import translation
from django.utils.translation import get_language, pgettext

from domain.vat import REVERSE_CHARGE_MENTION_EN, REVERSE_CHARGE_MENTION_FR
from invoices.facturx import seller_legal_info
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
    #: "SAS au capital de 10 000,00 € · RCS Paris 900 000 001" (empty before it was recorded).
    seller_legal_info: str
    buyer_address_lines: list[str]
    buyer_country_name: str
    #: A French buyer's SIREN or SIRET, and the buyer's purchase order reference.
    buyer_registration: str
    purchase_order: str
    #: The date of supply (access is given at issue) and the period the lines bill, if any.
    supply_date: str
    service_period: str
    #: The VAT breakdown per rate: (rate, taxable amount, VAT).
    vat_breakdown: list[tuple[str, str, str]]
    #: Payment mentions French law requires: each in the document's language and, when
    #: that is not French, in French as well (docs/rules/invoices.md#mandatory-mentions).
    legal_mentions: list[tuple[str, str]]


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


#: The payment mentions of every invoice (article L441-10 of the French Code de commerce).
LEGAL_MENTIONS = (
    ("invoice", "Late payment penalties: three times the legal interest rate"),
    ("invoice", "Fixed compensation for recovery costs: 40 €"),
    ("invoice", "No discount for early payment"),
)


def _legal_mentions(locale: str) -> list[tuple[str, str]]:
    mentions = []
    for context, text in LEGAL_MENTIONS:
        with translation.override(locale):
            local = pgettext(context, text)
        with translation.override("fr"):
            french = pgettext(context, text)
        mentions.append((local, "" if french == local else french))
    return mentions


def _service_period(lines: list[InvoiceLine], locale: str) -> str:
    periods = [
        (line.period_start, line.period_end) for line in lines if line.period_start and line.period_end
    ]
    if not periods:
        return ""
    return f"{_date(min(p[0] for p in periods), locale)} – {_date(max(p[1] for p in periods), locale)}"


def present_invoice(invoice: Invoice, locale: str | None = None) -> InvoiceView:
    """Format ``invoice`` for ``locale`` (default: the active language)."""
    locale = locale or get_language() or settings.LANGUAGE_CODE
    currency = invoice.currency

    def money(cents: int) -> str:
        return format_money(cents, currency, locale)

    is_credit_note = invoice.document_type == DocumentType.CREDIT_NOTE
    lines = list(invoice.lines.all())
    buyer = (invoice.parties or {}).get("buyer", {})
    place = f"{buyer.get('postal_code', '')} {buyer.get('city', '')}".strip()
    rate = format_percent(invoice.vat_rate_bp, 10_000, locale)
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
        lines=[_line(line, currency, locale) for line in lines],
        subtotal=money(invoice.subtotal_cents),
        vat_rate=rate,
        vat=money(invoice.vat_cents),
        total=money(invoice.total_cents),
        account_credit_applied=money(invoice.account_credit_applied_cents),
        amount_due=money(invoice.amount_due_cents),
        reverse_charge=invoice.reverse_charge,
        reverse_charge_mentions=(REVERSE_CHARGE_MENTION_FR, REVERSE_CHARGE_MENTION_EN),
        seller_address_lines=[line for line in invoice.seller_address.splitlines() if line.strip()],
        seller_legal_info=seller_legal_info(invoice, locale),
        buyer_address_lines=[
            line for line in [*str(buyer.get("street", "")).splitlines(), place] if line.strip()
        ],
        buyer_country_name=str(
            Locale.parse(locale).territories.get(invoice.buyer_country, invoice.buyer_country)
        ),
        buyer_registration=str(buyer.get("registration_number", "")),
        purchase_order=str(buyer.get("purchase_order", "")),
        supply_date=_date(invoice.issued_at, locale),
        service_period=_service_period(lines, locale),
        vat_breakdown=[
            (
                format_percent(0, 10_000, locale) if invoice.reverse_charge else rate,
                money(invoice.subtotal_cents),
                money(invoice.vat_cents),
            )
        ],
        legal_mentions=_legal_mentions(locale),
    )
