"""VAT: who pays it and how much (docs/rules/invoices.md#vat), with written figures."""

import pytest

from domain.vat import is_reverse_charge, vat_cents


@pytest.mark.parametrize(
    ("subtotal", "rate_bp", "expected"),
    [
        (7_499, 2_000, 1_500),  # 74,99 € × 20 % = 14,998 € → 15,00 €
        (-587, 2_000, -117),  # a credit of −5,87 €: −1,174 € → −1,17 €, the VAT it reverses
        (-4_500, 2_000, -900),  # −45,00 € × 20 % = −9,00 €
        (300, 550, 17),  # 3,00 € × 5,5 % = 0,165 € → 0,17 € (half up)
        (299, 550, 16),  # 2,99 € × 5,5 % = 0,16445 € → 0,16 €
    ],
)
def test_vat_is_the_rate_times_the_base_rounded_half_up(subtotal, rate_bp, expected):
    assert vat_cents(subtotal, vat_rate_bp=rate_bp, reverse_charge=False) == expected


def test_a_reverse_charged_sale_carries_no_vat():
    assert vat_cents(7_499, vat_rate_bp=2_000, reverse_charge=True) == 0


@pytest.mark.parametrize(
    ("country", "vat_number", "reverse_charge"),
    [
        ("DE", "DE123456789", True),  # an EU business in another member state
        (" de ", " DE123456789 ", True),  # as typed, spaces and case aside
        ("GR", "EL123456789", True),  # Greece: "GR" here, "EL" in its VAT numbers
        ("FR", "FR40123456789", False),  # the seller's own country
        ("DE", "", False),  # a consumer: no VAT number
        ("DE", "   ", False),
        ("US", "US123", False),  # outside the EU
        ("CH", "CHE123456789", False),
    ],
)
def test_only_an_eu_business_outside_the_sellers_country_is_reverse_charged(
    country, vat_number, reverse_charge
):
    assert (
        is_reverse_charge(buyer_country=country, buyer_vat_number=vat_number, seller_country="FR")
        is reverse_charge
    )


def test_the_sellers_country_is_read_as_typed_too():
    assert not is_reverse_charge(buyer_country="DE", buyer_vat_number="DE1", seller_country=" de ")
    assert is_reverse_charge(buyer_country="FR", buyer_vat_number="FR1", seller_country="de")
