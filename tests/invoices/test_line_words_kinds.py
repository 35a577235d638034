"""The words of each kind of line, in French and in English, written from the line's
numbers (docs/rules/invoices.md#line-words). Every expected amount is worked out by hand
in the comment above it."""

from __future__ import annotations

import pytest
from django.utils import translation

from invoices import errors
from invoices.line_checks import validate_lines
from invoices.line_words import line_words
from invoices.totals import DraftLine

NBSP = "\u00a0"

ANNUAL_PRO_SEAT = DraftLine(
    kind="seat_proration",
    subject="Pro",
    seat_email="c@exemple.fr",
    quantity=1,
    unit_amount_cents=8_999,
    fraction_numerator=10,
    fraction_denominator=12,
    fraction_unit="month",
    # 89,99 € × 10/12 = 899,90 € / 12 = 74,991… → 74,99 €
    amount_cents=7_499,
)
SEAT_GIVEN_BACK = DraftLine(
    kind="credit",
    subject="Pro",
    seat_email="march@team.test",
    quantity=-1,
    unit_amount_cents=1_299,
    fraction_numerator=14,
    fraction_denominator=31,
    fraction_unit="day",
    # -(12,99 € × 14/31) = -(181,86 € / 31) = -5,866… → -5,87 €
    amount_cents=-587,
)
TEAM_STARTER = DraftLine(
    kind="plan", subject="Team Starter", quantity=1, unit_amount_cents=15_900, amount_cents=15_900
)
EXTRA_SEATS = DraftLine(
    kind="seats",
    subject="Team Starter",
    quantity=5,
    unit_amount_cents=1_500,
    # 5 × 15,00 € = 75,00 €
    amount_cents=7_500,
    metadata={"extra": True},
)
ADDON = DraftLine(kind="addon", subject="Prototypes", quantity=2, unit_amount_cents=800, amount_cents=1_600)
TAKEN_BACK = DraftLine(
    kind="seat_proration",
    subject="Pro",
    seat_email="a@exemple.fr",
    quantity=1,
    unit_amount_cents=587,
    amount_cents=587,
    metadata={"kind": "readded"},
)


@pytest.mark.parametrize(
    ("line", "french", "english"),
    [
        (
            ANNUAL_PRO_SEAT,
            ("Siège Pro — c@exemple.fr", f"1 × 89,99{NBSP}€ × 10/12 mois = 74,99{NBSP}€"),
            ("Pro seat — c@exemple.fr", "1 × €89.99 × 10/12 months = €74.99"),
        ),
        (
            SEAT_GIVEN_BACK,
            (
                "Temps non utilisé sur un siège Pro — march@team.test",
                f"-1 × 12,99{NBSP}€ × 14/31 jours = -5,87{NBSP}€",
            ),
            ("Unused time on a Pro seat — march@team.test", "-1 × €12.99 × 14/31 days = -€5.87"),
        ),
        (
            TEAM_STARTER,
            ("Forfait Team Starter", f"1 × 159,00{NBSP}€ = 159,00{NBSP}€"),
            ("Team Starter plan", "1 × €159.00 = €159.00"),
        ),
        (
            EXTRA_SEATS,
            ("Team Starter, sièges supplémentaires", f"5 × 15,00{NBSP}€ = 75,00{NBSP}€"),
            ("Team Starter, extra seats", "5 × €15.00 = €75.00"),
        ),
        (
            ADDON,
            ("Module complémentaire Prototypes", f"2 × 8,00{NBSP}€ = 16,00{NBSP}€"),
            ("Prototypes add-on", "2 × €8.00 = €16.00"),
        ),
        (
            TAKEN_BACK,
            (
                "Siège Pro — a@exemple.fr, ajouté à nouveau le même jour : le crédit du retrait est repris",
                f"1 × 5,87{NBSP}€ = 5,87{NBSP}€",
            ),
            (
                "Pro seat — a@exemple.fr, added again the same day: the removal credit is taken back",
                "1 × €5.87 = €5.87",
            ),
        ),
    ],
)
def test_words_are_written_from_the_numbers_in_the_language_asked(line, french, english):
    # The active language does not matter: the language asked for does.
    with translation.override("en"):
        words = line_words(line, currency="EUR", language="fr")
    assert (words.description, words.formula) == french
    with translation.override("fr"):
        words = line_words(line, currency="EUR", language="en")
    assert (words.description, words.formula) == english


def test_the_columns_read_quantity_unit_price_fraction_and_amount():
    words = line_words(ANNUAL_PRO_SEAT, currency="EUR", language="fr")

    assert (words.quantity, words.unit_price, words.fraction, words.amount) == (
        "1",
        f"89,99{NBSP}€",
        "10/12 mois",
        f"74,99{NBSP}€",
    )


def test_a_line_issued_before_words_were_written_keeps_its_stored_words():
    stored = DraftLine(
        kind="seat_proration",
        description=f"Siège Pro — c@team.test, 1 day of 31 × 75,00{NBSP}€",
        quantity=1,
        unit_amount_cents=242,
        amount_cents=242,
    )

    for language in ("fr", "en"):
        words = line_words(stored, currency="EUR", language=language)
        assert words.description == f"Siège Pro — c@team.test, 1 day of 31 × 75,00{NBSP}€"
    assert line_words(stored, currency="EUR", language="en").formula == "1 × €2.42 = €2.42"


@pytest.mark.parametrize(
    ("amount_cents", "valid"),
    [
        # 2 × 15,00 € × 5/31 = 150,00 € / 31 = 4,838… → 4,84 €
        (484, True),
        (483, False),
        (485, False),
    ],
)
def test_issuing_refuses_a_line_whose_numbers_do_not_make_its_amount(amount_cents, valid):
    line = DraftLine(
        kind="seat_proration",
        subject="Team Starter",
        quantity=2,
        unit_amount_cents=1_500,
        fraction_numerator=5,
        fraction_denominator=31,
        fraction_unit="day",
        amount_cents=amount_cents,
    )
    if valid:
        validate_lines([line])
    else:
        with pytest.raises(errors.InvoiceLineInvalid):
            validate_lines([line])
