"""VAT: who pays it (the EU reverse-charge rule) and how much (pure, no I/O;
docs/rules/invoices.md#vat)."""

from __future__ import annotations

from domain.money import BASIS_POINTS_PER_UNIT, round_half_up

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


def vat_cents(subtotal_cents: int, *, vat_rate_bp: int, reverse_charge: bool) -> int:
    """VAT on a subtotal, rounded half away from zero: a credit (a negative subtotal)
    carries the VAT of the charge it reverses, with the opposite sign; nothing on a
    reverse-charged sale (docs/rules/invoices.md#vat)."""
    if reverse_charge:
        return 0
    return round_half_up(subtotal_cents * vat_rate_bp, BASIS_POINTS_PER_UNIT)
