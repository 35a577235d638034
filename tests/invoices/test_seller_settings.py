"""The seller's legal identity has no production default: a production start refuses a
missing or malformed mention (docs/rules/invoices.md#mandatory-mentions)."""

from config.seller_checks import seller_production_refusal

VALID = {
    "name": "SeatCredit SAS",
    "legal_form": "SAS",
    "share_capital_cents": 1_000_000,
    "siren": "900 000 001",
    "rcs": "RCS Paris",
    "vat_number": "FR68900000001",
    "street": "10 rue de la Paix",
    "postal_code": "75002",
    "city": "Paris",
    "country": "FR",
}


def test_a_complete_seller_is_accepted():
    assert seller_production_refusal(**VALID) == ""


def test_missing_mentions_are_named():
    refusal = seller_production_refusal(**{**VALID, "siren": "", "rcs": " ", "share_capital_cents": 0})
    assert refusal == (
        "The seller's legal identity is printed on every invoice: set SELLER_SIREN, SELLER_RCS, "
        "SELLER_SHARE_CAPITAL_CENTS when DEBUG is off."
    )


def test_a_siren_or_vat_number_with_a_wrong_check_digit_is_refused():
    assert seller_production_refusal(**{**VALID, "siren": "900 000 002"}) == (
        "SELLER_SIREN is not a valid SIREN (9 digits with a valid check digit)."
    )
    assert seller_production_refusal(**{**VALID, "vat_number": "FR40123456789"}) == (
        "SELLER_VAT_NUMBER is not a valid EU VAT number (format and check digits)."
    )


def test_the_settings_refuse_to_start_without_a_seller_in_production():
    import os
    import secrets
    import subprocess
    import sys

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SELLER_", "DJANGO_", "DEBUG", "STRIPE_", "SECRET_KEY"))
    }
    env.update(
        {
            "ENV_FILE": "",
            "DEBUG": "0",
            "DJANGO_TEST_SUITE": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "STRIPE_SECRET_KEY": "sk_live_x",
            "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
            "STRIPE_WEBHOOK_SECRETS": "whsec_x",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django.conf; django.conf.settings.SELLER_NAME"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "The seller's legal identity is printed on every invoice: set SELLER_NAME" in result.stderr
