"""Who pays French VAT: the EU reverse-charge rule (pure, no I/O)."""

from __future__ import annotations

# ISO 3166 codes of the EU member states (Greece is "GR" here; its VAT prefix is "EL").
EU_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip

#: Printed on reverse-charged invoices: the French legal mention and its English form.
REVERSE_CHARGE_MENTION_FR = "Autoliquidation — article 283-2 du CGI"
REVERSE_CHARGE_MENTION_EN = "VAT reverse charge"


def is_reverse_charge(*, buyer_country: str, buyer_vat_number: str, seller_country: str) -> bool:
    """An EU business customer (it has a VAT number) outside the seller's country self-assesses
    the VAT (article 283-2 of the French CGI, article 196 of the VAT directive): no VAT is charged."""
    country = buyer_country.strip().upper()
    return (
        bool(buyer_vat_number.strip())
        and country in EU_COUNTRIES
        and country != seller_country.strip().upper()
    )
