"""Factur-X: every invoice and credit note is a PDF/A-3 carrying the CII XML of the
EN 16931 profile (docs/rules/invoices.md#factur-x).

The XML is built from the issued document — its number, dates, parties and legal
details as recorded at issue, its lines and totals — by the PyPI ``factur-x`` library
(``generate_cii_xml``), which checks it against the profile's XSD; the same library
embeds it in the PDF/A-3 and writes the Factur-X XMP metadata, and reads it back.

A credit note is type 381 and, as EN 16931 wants, states its amounts positive (the type
says they go back to the buyer); an invoice is type 380.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import facturx
from babel.numbers import get_currency_precision
from django.conf import settings
from django.utils import translation
from facturx import generate_cii_xml

from domain.vat import REVERSE_CHARGE_MENTION_EN, REVERSE_CHARGE_MENTION_FR
from invoices.line_words import line_words
from invoices.models import DocumentType, FractionUnit, Invoice, InvoiceLine
from workspaces.formatting import format_money

LEVEL = "en16931"
FLAVOR = "factur-x"
#: UNTDID 1001 document type codes.
TYPE_INVOICE = "380"
TYPE_CREDIT_NOTE = "381"
#: UNECE Recommendation 20 units: one (a piece), a day, a month.
UNIT_ONE, UNIT_DAY, UNIT_MONTH = "C62", "DAY", "MON"
#: UNCL 5305 VAT categories: standard rate, reverse charge, zero rate.
VAT_STANDARD, VAT_REVERSE_CHARGE, VAT_ZERO = "S", "AE", "Z"
#: The VATEX code of an intra-EU reverse-charged supply.
VATEX_REVERSE_CHARGE = "VATEX-EU-AE"

#: French law's payment mentions, in French whatever the document's language
#: (docs/rules/invoices.md#mandatory-mentions), as UNTDID 4451 notes.
PAYMENT_NOTES = (
    (
        "PMD",
        "Pénalités de retard : trois fois le taux d'intérêt légal, exigibles dès le lendemain de l'échéance.",
    ),
    ("PMT", "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €."),
    ("AAB", "Pas d'escompte pour paiement anticipé."),
)
PAYMENT_TERMS = "Payable à réception"


def seller_day(moment: datetime) -> date:
    """An instant's calendar date for the seller (the document's legal dates)."""
    return moment.astimezone(ZoneInfo(settings.SELLER_TIME_ZONE)).date()


def type_code(invoice: Invoice) -> str:
    return TYPE_CREDIT_NOTE if invoice.document_type == DocumentType.CREDIT_NOTE else TYPE_INVOICE


def vat_category(invoice: Invoice) -> str:
    if invoice.reverse_charge:
        return VAT_REVERSE_CHARGE
    return VAT_ZERO if invoice.vat_rate_bp == 0 else VAT_STANDARD


def _amount(cents: int, currency: str) -> str:
    return str(Decimal(cents).scaleb(-get_currency_precision(currency)))


def _percent(rate_bp: int) -> str:
    return str(Decimal(rate_bp).scaleb(-2))


def seller_legal_info(invoice: Invoice, language: str) -> str:
    """``SAS au capital de 10 000,00 € · RCS Paris 900 000 001``, from what the document recorded."""
    seller = (invoice.parties or {}).get("seller", {})
    parts = []
    capital = int(seller.get("share_capital_cents") or 0)
    if seller.get("legal_form") and capital:
        with translation.override(language):
            parts.append(
                translation.pgettext("invoice", "%(form)s with a share capital of %(capital)s")
                % {"form": seller["legal_form"], "capital": format_money(capital, "EUR", language)}
            )
    if seller.get("rcs"):
        parts.append(f"{seller['rcs']} {invoice.seller_siren}".strip())
    return " · ".join(parts)


def _registration(number: str) -> dict[str, str]:
    """A French buyer's SIREN (ISO 6523 scheme 0002) or SIRET (0009)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits:
        return {}
    return {"legal_identifier": digits, "legal_identifier_schemeid": "0009" if len(digits) == 14 else "0002"}


def _address(details: dict[str, Any], country: str) -> dict[str, str]:
    lines = [line.strip() for line in str(details.get("street", "")).splitlines() if line.strip()]
    address = {"country_code": country}
    for key, line in zip(("addr_l1", "addr_l2", "addr_l3"), lines, strict=False):
        address[key] = line
    if details.get("postal_code"):
        address["postcode"] = str(details["postal_code"])
    if details.get("city"):
        address["city"] = str(details["city"])
    return address


def _line(line: InvoiceLine, invoice: Invoice, sign: int, category: str, rate: str) -> dict[str, Any]:
    """One line: billed quantity × net price / base quantity = net amount. A prorated line
    bills units of the period (2 seats × 5 days = 10 days at 15,00 € per 31 days)."""
    currency = invoice.currency
    quantity = int(line.quantity) * sign
    price = line.unit_amount_cents
    if price is None:
        price, quantity = abs(int(line.amount_cents)), (1 if int(line.amount_cents) * sign >= 0 else -1)
    elif price < 0:
        price, quantity = -price, -quantity
    data: dict[str, Any] = {
        "BT-126": str(line.position + 1),
        "BT-153": line_words(line, currency=currency, language=invoice.language).description or line.kind,
        "BT-146": _amount(price, currency),
        "BT-151": category,
        "BT-152": rate,
        "BT-131": _amount(int(line.amount_cents) * sign, currency),
    }
    if line.fraction_numerator is not None and line.fraction_denominator:
        data["BT-129"] = str(quantity * int(line.fraction_numerator))
        data["BT-149"] = str(int(line.fraction_denominator))
        data["BT-130"] = UNIT_MONTH if line.fraction_unit == FractionUnit.MONTH else UNIT_DAY
    else:
        data["BT-129"] = str(quantity)
        data["BT-130"] = UNIT_ONE
    if line.period_start and line.period_end:
        data["BT-134"] = seller_day(line.period_start)
        data["BT-135"] = seller_day(line.period_end)
    return data


def invoice_data(invoice: Invoice) -> dict[str, Any]:
    """The document as the library's EN 16931 dictionary (keys are the standard's BT/BG ids)."""
    currency = invoice.currency
    sign = -1 if invoice.document_type == DocumentType.CREDIT_NOTE else 1
    category = vat_category(invoice)
    rate = "0.00" if invoice.reverse_charge else _percent(invoice.vat_rate_bp)
    parties = invoice.parties or {}
    buyer_details = parties.get("buyer", {})
    lines = list(invoice.lines.order_by("position", "id"))
    issued = seller_day(invoice.issued_at) if invoice.issued_at else None
    seller = {
        "name": invoice.seller_name,
        **_registration(invoice.seller_siren),
        "vat_identifier": invoice.seller_vat_number,
        **_address(parties.get("seller", {}), invoice.seller_country),
    }
    legal_info = seller_legal_info(invoice, "fr")
    if legal_info:
        seller["legal_info"] = legal_info
    buyer: dict[str, Any] = {"name": invoice.buyer_name, **_address(buyer_details, invoice.buyer_country)}
    if invoice.buyer_vat_number:
        buyer["vat_identifier"] = invoice.buyer_vat_number
    buyer.update(_registration(str(buyer_details.get("registration_number", ""))))
    if invoice.buyer_email:
        buyer["contacts"] = [{"email": invoice.buyer_email}]
    tax: dict[str, Any] = {
        "BT-116": _amount(invoice.subtotal_cents * sign, currency),
        "BT-117": _amount(invoice.vat_cents * sign, currency),
        "BT-118": category,
        "BT-119": rate,
    }
    if invoice.reverse_charge:
        tax["BT-120"] = f"{REVERSE_CHARGE_MENTION_FR} ({REVERSE_CHARGE_MENTION_EN})"
        tax["BT-121"] = VATEX_REVERSE_CHARGE
    total = invoice.total_cents * sign
    prepaid = invoice.account_credit_applied_cents if sign > 0 else 0
    data: dict[str, Any] = {
        "BT-1": invoice.number,
        "BT-2": issued,
        "BT-3": type_code(invoice),
        "BT-5": currency,
        "BG-4": seller,
        "BG-7": buyer,
        "BT-72": issued,
        "BG-1": [{"BT-21": code, "BT-22": text} for code, text in PAYMENT_NOTES],
        "BG-23": [tax],
        "BT-106": _amount(invoice.subtotal_cents * sign, currency),
        "BT-109": _amount(invoice.subtotal_cents * sign, currency),
        "BT-110": _amount(invoice.vat_cents * sign, currency),
        "BT-112": _amount(total, currency),
        "BT-113": _amount(prepaid, currency),
        "BT-115": _amount(total - prepaid, currency),
        "BG-25": [_line(line, invoice, sign, category, rate) for line in lines],
    }
    if buyer_details.get("purchase_order"):
        data["BT-13"] = str(buyer_details["purchase_order"])
    if sign > 0:
        data["BT-20"] = PAYMENT_TERMS
        if invoice.due_at:
            data["BT-9"] = seller_day(invoice.due_at)
    corrected = invoice.corrects if invoice.corrects_id else None
    if corrected is not None and corrected.number:
        reference: dict[str, Any] = {"BT-25": corrected.number}
        if corrected.issued_at:
            reference["BT-26"] = seller_day(corrected.issued_at)
        data["BG-3"] = [reference]
    starts = [line.period_start for line in lines if line.period_start and line.period_end]
    ends = [line.period_end for line in lines if line.period_start and line.period_end]
    if starts and ends:
        data["BT-73"] = seller_day(min(starts))
        data["BT-74"] = seller_day(max(ends))
    return data


def invoice_xml(invoice: Invoice) -> bytes:
    """The document's CII XML, checked against the EN 16931 profile's XSD (raises if not valid)."""
    xml: bytes = generate_cii_xml(invoice_data(invoice), level=LEVEL, check_xsd=True, check_schematron=False)
    return xml


def check_xsd(xml: bytes) -> None:
    """Raise unless ``xml`` is valid against the Factur-X EN 16931 XSD."""
    facturx.xml_check_xsd(xml, flavor=FLAVOR, level=LEVEL)


def embed(pdf: bytes, xml: bytes, invoice: Invoice) -> bytes:
    """The PDF/A-3 with ``xml`` attached as ``factur-x.xml`` and the Factur-X XMP metadata."""
    title = f"{invoice.seller_name}: {DocumentType(invoice.document_type).label} {invoice.number}"
    result: bytes = facturx.generate_from_binary(
        pdf,
        xml,
        flavor=FLAVOR,
        level=LEVEL,
        check_xsd=False,  # invoice_xml checked it
        pdf_metadata={
            "author": invoice.seller_name,
            "keywords": "Factur-X",
            "title": title,
            "subject": title,
        },
        lang="fr-FR" if invoice.language == "fr" else "en-GB",
    )
    return result


def xml_of_pdf(pdf: bytes) -> bytes:
    """The CII XML a Factur-X PDF carries (checked against the XSD as it is read)."""
    _filename, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    if not xml:
        raise ValueError("This PDF carries no Factur-X XML.")
    return bytes(xml)
