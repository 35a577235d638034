"""Invoice line words (docs/rules/invoices.md#line-words): a line stores its kind and its
numbers, and its words are written from them — in the reader's language on screen, in
the invoice's language in the PDF. Quantity × unit price × fraction = amount, visibly,
on every line.

The invoices come from the real services: Team Starter (159,00 € a month, 5 seats
included, an extra seat 15,00 €, packs of 1 000 000 credits at 5,00 €) and Pro / Max
(12,99 € / 24,99 € a month).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from django.urls import reverse
from django.utils import translation

from billing import services
from billing.pages.display import preview_lines
from invoices.models import Invoice
from tests.factories import owner_of, price_id, subscribe
from tests.invoices.pdftext import extract_text

NBSP, NNBSP = "\u00a0", "\u202f"

MARCH_1 = datetime(2026, 3, 1, 9, tzinfo=UTC)
MARCH_16 = datetime(2026, 3, 16, 9, tzinfo=UTC)  # 16 of March's 31 days left
MARCH_27 = datetime(2026, 3, 27, 9, tzinfo=UTC)  # 5 of March's 31 days left


def _text(html: str) -> str:
    """What a reader reads: tags dropped, runs of ASCII whitespace made one space (the
    no-break spaces of amounts stay)."""
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _details(client, workspace, invoice: Invoice, language: str | None = None) -> str:
    client.force_login(owner_of(workspace).user)
    if language:
        client.cookies["django_language"] = language
    response = client.get(reverse("invoice_detail", args=[workspace.pk, invoice.pk]))
    assert response.status_code == 200
    return _text(response.content.decode())


@pytest.fixture
def seats_and_credits(workspace) -> Invoice:
    """Team Starter from 1 March; on 27 March, 2 extra seats and 3 packs of credits."""
    subscribe(workspace, plan="team-starter", now=MARCH_1)
    preview = services.preview_customize(workspace=workspace, extra_seats=2, credit_packs=3, now=MARCH_27)
    result = services.apply_customize(
        workspace=workspace,
        actor=owner_of(workspace),
        extra_seats=2,
        credit_packs=3,
        preview=preview,
        now=MARCH_27,
    )
    assert result.invoice is not None
    return result.invoice


@pytest.fixture
def pro_to_max(workspace) -> Invoice:
    """Pro (12,99 € a month) from 1 March, changed to Max (24,99 €) on 16 March."""
    subscribe(workspace, plan="pro", now=MARCH_1)
    preview = services.preview_change_plan(workspace=workspace, price_id=price_id("max"), now=MARCH_16)
    result = services.apply_change_plan(
        workspace=workspace,
        actor=owner_of(workspace),
        price_id=price_id("max"),
        preview=preview,
        now=MARCH_16,
    )
    assert result.invoice is not None
    return result.invoice


def test_a_seat_change_stores_its_kind_and_numbers(seats_and_credits):
    seats, credits = seats_and_credits.lines.order_by("position")

    # 2 × 15,00 € × 5/31 = 150,00 € / 31 = 4,838… → 4,84 €
    assert (seats.kind, seats.subject, seats.quantity, seats.unit_amount_cents, seats.amount_cents) == (
        "seat_proration",
        "Team Starter",
        2,
        1_500,
        484,
    )
    assert (seats.fraction_numerator, seats.fraction_denominator, seats.fraction_unit) == (5, 31, "day")
    # 3 × 5,00 € = 15,00 €, whole packs: no fraction.
    assert (credits.kind, credits.quantity, credits.unit_amount_cents, credits.amount_cents) == (
        "extra_credits",
        3,
        500,
        1_500,
    )
    assert (credits.fraction_numerator, credits.fraction_denominator, credits.fraction_unit) == (
        None,
        None,
        "",
    )
    # Nothing is stored in words.
    assert (seats.description, credits.description) == ("", "")


def test_a_french_reader_sees_quantity_times_unit_price_times_fraction_equals_amount(
    client, workspace, seats_and_credits
):
    page = _details(client, workspace, seats_and_credits)

    assert "Team Starter, sièges supplémentaires" in page
    assert f"2 × 15,00{NBSP}€ × 5/31 jours = 4,84{NBSP}€" in page
    assert f"Crédits supplémentaires, packs de 1{NNBSP}000{NNBSP}000 crédits" in page
    assert f"3 × 5,00{NBSP}€ = 15,00{NBSP}€" in page
    assert f"Sous-total HT 19,84{NBSP}€" in page


def test_an_english_reader_reads_a_french_invoice_in_english(client, workspace, seats_and_credits):
    assert seats_and_credits.language == "fr"

    page = _details(client, workspace, seats_and_credits, "en")

    assert "Team Starter, extra seats" in page
    assert "2 × €15.00 × 5/31 days = €4.84" in page
    assert "Extra credits, packs of 1,000,000 credits" in page
    assert "3 × €5.00 = €15.00" in page
    for french in ("sièges", "jours", "crédits", f"15,00{NBSP}€", f"4,84{NBSP}€"):
        assert french not in page, french


def test_a_plan_change_shows_both_prorations_in_the_readers_language(client, workspace, pro_to_max):
    # Max: 24,99 € × 16/31 = 399,84 € / 31 = 12,898… → 12,90 €
    # Pro, given back: 12,99 € × 16/31 = 207,84 € / 31 = 6,704… → 6,70 €
    assert list(pro_to_max.lines.values_list("kind", "quantity", "unit_amount_cents", "amount_cents")) == [
        ("plan_proration", 1, 2_499, 1_290),
        ("credit", -1, 1_299, -670),
    ]

    french = _details(client, workspace, pro_to_max)
    assert "Forfait Max, reste de la période" in french
    assert f"1 × 24,99{NBSP}€ × 16/31 jours = 12,90{NBSP}€" in french
    assert "Temps non utilisé sur Pro" in french
    assert f"-1 × 12,99{NBSP}€ × 16/31 jours = -6,70{NBSP}€" in french

    english = _details(client, workspace, pro_to_max, "en")
    assert "Max plan, rest of the period" in english
    assert "1 × €24.99 × 16/31 days = €12.90" in english
    assert "Unused time on Pro" in english
    assert "-1 × €12.99 × 16/31 days = -€6.70" in english


def test_the_pdf_is_in_the_invoices_language_whoever_downloads_it(client, workspace, seats_and_credits):
    client.force_login(owner_of(workspace).user)
    client.cookies["django_language"] = "en"

    response = client.get(reverse("invoice_pdf", args=[workspace.pk, seats_and_credits.pk]))

    assert response.status_code == 200
    text = re.sub(r"[ \t]*\n[ \t]*", " ", extract_text(b"".join(response.streaming_content)))
    assert "Team Starter, sièges supplémentaires" in text
    assert f"2 × 15,00{NBSP}€ × 5/31 jours = 4,84{NBSP}€" in text
    assert f"Crédits supplémentaires, packs de 1{NNBSP}000{NNBSP}000 crédits" in text
    assert f"3 × 5,00{NBSP}€ = 15,00{NBSP}€" in text
    assert "days" not in text
    assert "€15.00" not in text


def test_a_change_previewed_on_screen_reads_in_the_readers_language(workspace):
    subscribe(workspace, plan="team-starter", now=MARCH_1)
    preview = services.preview_customize(workspace=workspace, extra_seats=2, now=MARCH_27)

    with translation.override("en"):
        (english,) = preview_lines(preview)
    with translation.override("fr"):
        (french,) = preview_lines(preview)

    assert (english.description, english.formula) == (
        "Team Starter, extra seats",
        "2 × €15.00 × 5/31 days = €4.84",
    )
    assert (french.description, french.formula) == (
        "Team Starter, sièges supplémentaires",
        f"2 × 15,00{NBSP}€ × 5/31 jours = 4,84{NBSP}€",
    )
