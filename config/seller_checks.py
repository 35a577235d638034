"""What a production start (``DEBUG`` off) refuses of the seller's legal identity, checked
while the settings load: every mention French law asks of an invoice, with a SIREN and a
VAT number that pass their check digits (docs/rules/invoices.md#mandatory-mentions)."""

from __future__ import annotations

from stdnum.eu import vat
from stdnum.fr import siren as siren_numbers


def seller_production_refusal(
    *,
    name: str,
    legal_form: str,
    share_capital_cents: int,
    siren: str,
    rcs: str,
    vat_number: str,
    street: str,
    postal_code: str,
    city: str,
    country: str,
) -> str:
    """Why invoices cannot be issued with this seller (``""`` when they can)."""
    missing = [
        setting
        for setting, value in (
            ("SELLER_NAME", name),
            ("SELLER_LEGAL_FORM", legal_form),
            ("SELLER_SIREN", siren),
            ("SELLER_RCS", rcs),
            ("SELLER_VAT_NUMBER", vat_number),
            ("SELLER_STREET", street),
            ("SELLER_POSTAL_CODE", postal_code),
            ("SELLER_CITY", city),
            ("SELLER_COUNTRY", country),
        )
        if not value.strip()
    ]
    if share_capital_cents <= 0:
        missing.append("SELLER_SHARE_CAPITAL_CENTS")
    if missing:
        return f"The seller's legal identity is printed on every invoice: set {', '.join(missing)} when DEBUG is off."
    if country.strip().upper() == "FR" and not siren_numbers.is_valid(siren):
        return "SELLER_SIREN is not a valid SIREN (9 digits with a valid check digit)."
    if not vat.is_valid(vat_number):
        return "SELLER_VAT_NUMBER is not a valid EU VAT number (format and check digits)."
    return ""
