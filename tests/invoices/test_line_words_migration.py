"""Migration 0005 moves the lines issued before line words to the new shape without
changing a single issued document (docs/rules/invoices.md#line-words).

The database is taken back to 0004, a paid invoice is issued there with the lines the
old engine wrote (their English formula with French amounts) and a stored PDF, and the
database is migrated to 0005: every column the invoice and its lines had, and the
stored PDF, are byte for byte what they were; only the new columns are filled, for the
lines whose numbers can be read back exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from invoices.line_words import line_words
from invoices.models import InvoiceLine
from invoices.pdf import html_to_pdf

BEFORE = [("invoices", "0004_invoice_dunning")]
AFTER = [("invoices", "0005_line_words")]
NBSP = "\u00a0"
ISSUED = datetime(2026, 3, 27, 9, tzinfo=UTC)
PERIOD = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))

OLD_COLUMNS = (
    "id, invoice_id, position, kind, description, quantity, unit_amount_cents, amount_cents, "
    "period_start, period_end, metadata"
)

# (kind, description, quantity, unit, amount, metadata): what the old engine stored.
OLD_LINES = [
    ("plan", f"Team Starter, 1 month × 159,00{NBSP}€", 1, 15_900, 15_900, {"interval": "month"}),
    # 2 × 15,00 € × 5/31 = 150,00 € / 31 = 4,838… → 4,84 €
    (
        "seat_proration",
        f"Team Starter, 2 extra seats, 5 of 31 days × 30,00{NBSP}€",
        2,
        1_500,
        484,
        {"seats": 2, "remaining": 5, "total": 31},
    ),
    (
        "extra_credits",
        f"3 × 1\u202f000\u202f000 credits × 5,00{NBSP}€",
        3,
        500,
        1_500,
        {"packs": 3, "pack_size": 1_000_000, "credits": 3_000_000},
    ),
    ("addon", f"AI credits, 2 × 10,00{NBSP}€", 2, 1_000, 2_000, {}),
    # A seat renewed for a whole year: 89,99 € × 12/12.
    (
        "seats",
        f"Siège Pro — r@team.test, 12 of 12 months × 89,99{NBSP}€",
        1,
        8_999,
        8_999,
        {"kind": "renewal", "remaining": 12, "total": 12, "unit": "month"},
    ),
    # The old engine stored the prorated amount as the unit price: 75,00 € × 1/31 = 2,419… → 2,42 €,
    # so "1 × 2,42 €" cannot carry the fraction; the line keeps its stored words.
    (
        "seat_proration",
        f"Siège Pro — c@team.test, 1 of 31 days × 75,00{NBSP}€",
        1,
        242,
        242,
        {"kind": "added", "remaining": 1, "total": 31, "unit": "day"},
    ),
    # 12,99 € × 16/31 = 207,84 € / 31 = 6,704… → 6,70 €, stored with the prorated unit price too.
    (
        "credit",
        f"Unused time on Pro, 16 of 31 days × 12,99{NBSP}€",
        1,
        -670,
        -670,
        {"remaining": 16, "total": 31, "unit": "day"},
    ),
    ("plan", "Something the engine never wrote", 1, 1_000, 1_000, {}),
]
# 159,00 + 4,84 + 15,00 + 20,00 + 89,99 + 2,42 − 6,70 + 10,00 = 294,55 € HT; VAT 20 % = 58,91 €.
SUBTOTAL, VAT = 29_455, 5_891


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_0004(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _issue_old_invoice(apps, workspace) -> tuple[int, str]:
    Invoice = apps.get_model("invoices", "Invoice")
    Line = apps.get_model("invoices", "InvoiceLine")
    invoice = Invoice.objects.create(
        workspace_id=workspace.pk,
        currency="EUR",
        billing_reason="customization",
        source="old:1",
        language="fr",
    )
    Line.objects.bulk_create(
        Line(
            invoice_id=invoice.pk,
            position=position,
            kind=kind,
            description=description,
            quantity=quantity,
            unit_amount_cents=unit,
            amount_cents=amount,
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            metadata=metadata,
        )
        for position, (kind, description, quantity, unit, amount, metadata) in enumerate(OLD_LINES)
    )
    Invoice.objects.filter(pk=invoice.pk).update(
        status="paid",
        number="INV-2026-000001",
        issued_at=ISSUED,
        due_at=ISSUED,
        paid_at=ISSUED,
        subtotal_cents=SUBTOTAL,
        vat_rate_bp=2_000,
        vat_cents=VAT,
        total_cents=SUBTOTAL + VAT,
        amount_due_cents=SUBTOTAL + VAT,
    )
    name = default_storage.save(
        f"invoices/{workspace.pk}/INV-2026-000001.pdf",
        ContentFile(html_to_pdf("".join(f"<p>{line[1]}</p>" for line in OLD_LINES))),
    )
    Invoice.objects.filter(pk=invoice.pk).update(pdf=name)
    return invoice.pk, name


def _snapshot(invoice_id: int, pdf_name: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM invoices_invoice WHERE id = %s", [invoice_id])
        invoice = cursor.fetchall()
        cursor.execute(
            f"SELECT {OLD_COLUMNS} FROM invoices_invoiceline WHERE invoice_id = %s ORDER BY id", [invoice_id]
        )
        lines = cursor.fetchall()
    with default_storage.open(pdf_name, "rb") as stored:
        return invoice, lines, stored.read()


def test_migration_fills_only_the_new_columns_and_no_issued_document_changes(at_0004, workspace):
    invoice_id, pdf_name = _issue_old_invoice(at_0004, workspace)
    before = _snapshot(invoice_id, pdf_name)

    _migrate(AFTER)

    assert _snapshot(invoice_id, pdf_name) == before
    lines = list(InvoiceLine.objects.filter(invoice_id=invoice_id).order_by("position"))
    recovered = [
        (
            line.subject,
            line.seat_email,
            line.fraction_numerator,
            line.fraction_denominator,
            line.fraction_unit,
        )
        for line in lines
    ]
    assert recovered == [
        ("Team Starter", "", None, None, ""),
        ("Team Starter", "", 5, 31, "day"),
        ("", "", None, None, ""),
        ("AI credits", "", None, None, ""),
        ("Pro", "r@team.test", None, None, ""),
        (None, "", None, None, ""),
        (None, "", None, None, ""),
        (None, "", None, None, ""),
    ]

    def english(line):
        words = line_words(line, currency="EUR", language="en")
        return words.description, words.formula

    assert [english(line) for line in lines] == [
        ("Team Starter plan", "1 × €159.00 = €159.00"),
        ("Team Starter seats", "2 × €15.00 × 5/31 days = €4.84"),
        ("Extra credits, packs of 1,000,000 credits", "3 × €5.00 = €15.00"),
        ("AI credits add-on", "2 × €10.00 = €20.00"),
        ("Pro seat — r@team.test", "1 × €89.99 = €89.99"),
        # Stored words, shown as they were issued.
        (f"Siège Pro — c@team.test, 1 of 31 days × 75,00{NBSP}€", "1 × €2.42 = €2.42"),
        (f"Unused time on Pro, 16 of 31 days × 12,99{NBSP}€", "1 × -€6.70 = -€6.70"),
        ("Something the engine never wrote", "1 × €10.00 = €10.00"),
    ]


def test_after_the_migration_the_lines_of_an_issued_invoice_still_refuse_every_change(at_0004, workspace):
    invoice_id, _pdf_name = _issue_old_invoice(at_0004, workspace)
    _migrate(AFTER)
    named = InvoiceLine.objects.get(invoice_id=invoice_id, position=0)
    unnamed = InvoiceLine.objects.get(invoice_id=invoice_id, position=5)

    for statement, line in [
        ("UPDATE invoices_invoiceline SET amount_cents = 1 WHERE id = %s", named),
        ("UPDATE invoices_invoiceline SET description = 'x' WHERE id = %s", named),
        ("UPDATE invoices_invoiceline SET subject = 'Max' WHERE id = %s", named),
        # Empty, but only the migration may fill it.
        ("UPDATE invoices_invoiceline SET subject = 'Pro' WHERE id = %s", unnamed),
        ("UPDATE invoices_invoiceline SET fraction_numerator = 1 WHERE id = %s", unnamed),
        ("DELETE FROM invoices_invoiceline WHERE id = %s", unnamed),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [line.pk])
