"""What a production deployment sets for the seller's legal identity, printed on every
invoice and required when DEBUG is off (docs/rules/invoices.md): one fictitious company
for the tests that start the settings as production does."""

SELLER_IDENTITY = {
    "SELLER_NAME": "SeatCredit SAS",
    "SELLER_LEGAL_FORM": "SAS",
    "SELLER_SHARE_CAPITAL_CENTS": "1000000",
    "SELLER_SIREN": "900 000 001",
    "SELLER_RCS": "RCS Paris",
    "SELLER_VAT_NUMBER": "FR68900000001",
    "SELLER_STREET": "10 rue de la Paix",
    "SELLER_POSTAL_CODE": "75002",
    "SELLER_CITY": "Paris",
    "SELLER_COUNTRY": "FR",
}
