"""Invoice lines store their kind and their numbers; their words are written from them for
each reader (docs/rules/invoices.md#line-words).

New columns on the lines: the fraction of the period (numerator, denominator, unit), the
subject (the plan or add-on billed) and the seat holder's email. No issued document
changes: the invoices, every column their lines already had (descriptions and amounts
included) and their stored PDFs stay as they were.

The lines issued before get the new columns filled where their description and stored
numbers give them exactly — the old descriptions are read here, and only here. A line
is filled only if its stored quantity × stored unit price × the fraction read back,
rounded half-up to the cent, is its stored amount: the old engine stored the prorated
amount as the unit price of a plan change's lines and of seat charges, so those lines
keep their stored words (``subject`` stays NULL) and are shown as they were issued.

Migration 0002's line guard refuses any change to the lines of a finalized invoice. It
now lets a transaction that sets ``invoices.fill_line_numbers`` (this migration) fill
the new columns while they are empty, nothing else of the line changing; everything
else is still refused.
"""

import re

from django.db import migrations, models

from domain.money import round_half_up

NEW_COLUMNS = ("fraction_numerator", "fraction_denominator", "fraction_unit", "subject", "seat_email")
FILL_SETTING = "invoices.fill_line_numbers"

_GUARD_CHECK = """
    IF EXISTS (
        SELECT 1 FROM invoices_invoice WHERE id = ANY(invoice_ids) AND status <> 'draft'
    ) THEN
        RAISE EXCEPTION 'the lines of a finalized invoice cannot change'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
"""

_NEW_COLUMNS_SQL = ", ".join(f"'{c}'" for c in NEW_COLUMNS)

GUARD = f"""
CREATE OR REPLACE FUNCTION invoices_invoiceline_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    invoice_ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        invoice_ids := ARRAY[NEW.invoice_id];
    ELSIF TG_OP = 'UPDATE' THEN
        -- Migration 0005 fills the columns it added: only in a transaction that asks for
        -- it, only columns still empty, and nothing else of the line changes.
        IF current_setting('{FILL_SETTING}', true) = 'on'
            AND to_jsonb(NEW) - ARRAY[{_NEW_COLUMNS_SQL}] = to_jsonb(OLD) - ARRAY[{_NEW_COLUMNS_SQL}]
            AND (OLD.fraction_numerator IS NULL OR NEW.fraction_numerator IS NOT DISTINCT FROM OLD.fraction_numerator)
            AND (OLD.fraction_denominator IS NULL
                 OR NEW.fraction_denominator IS NOT DISTINCT FROM OLD.fraction_denominator)
            AND (OLD.fraction_unit = '' OR NEW.fraction_unit = OLD.fraction_unit)
            AND (OLD.subject IS NULL OR NEW.subject IS NOT DISTINCT FROM OLD.subject)
            AND (OLD.seat_email = '' OR NEW.seat_email = OLD.seat_email)
        THEN
            RETURN NEW;
        END IF;
        invoice_ids := ARRAY[OLD.invoice_id, NEW.invoice_id];
    ELSE
        invoice_ids := ARRAY[OLD.invoice_id];
    END IF;
{_GUARD_CHECK}"""

# Migration 0002's guard, put back when this migration is reversed.
OLD_GUARD = f"""
CREATE OR REPLACE FUNCTION invoices_invoiceline_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    invoice_ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        invoice_ids := ARRAY[NEW.invoice_id];
    ELSIF TG_OP = 'UPDATE' THEN
        invoice_ids := ARRAY[OLD.invoice_id, NEW.invoice_id];
    ELSE
        invoice_ids := ARRAY[OLD.invoice_id];
    END IF;
{_GUARD_CHECK}"""


# --- reading the old descriptions back ---------------------------------------------------------
# What the old engine wrote: an English formula with amounts in the default language, e.g.
# "Team Starter, 1 month × 159,00 €", "Pro, 2 extra seats, 5 of 31 days × 30,00 €",
# "Siège Pro — c@b.fr, 10 of 12 months × 89,99 €", "Unused time on Pro, 16 of 31 days × 12,99 €".

_FRACTION = r"(?P<r>\d+) of (?P<t>\d+) (?P<unit>day|month)s?"
_INTERVAL = r"1 (?:week|month|year)"
_PLAN = re.compile(rf"^(?P<plan>.+?), (?:{_INTERVAL}|{_FRACTION}) × ")
_SEATS = re.compile(rf"^(?P<plan>.+?), -?\d+ (?:extra )?seats?(?:, {_FRACTION})? × ")
_HOLDER = re.compile(
    rf"^(?:(?:Siège|Seat) (?P<plan>.+?)|(?P<plan_en>.+?) seat) — (?P<email>[^\s,]+@[^\s,]+), "
    rf"(?:{_FRACTION} × |added again the same day|ajouté à nouveau le même jour)"
)
_UNUSED = re.compile(
    rf"^Unused time on (?:a (?P<seat_plan>.+?) seat — (?P<email>[^\s,]+@[^\s,]+)|(?P<plan>.+?)), {_FRACTION} × "
)
_ADDON = re.compile(r"^(?P<addon>.+), -?\d+ × ")
_CREDITS = re.compile(r"^-?\d+ × [\d\s.,\u00a0\u202f]+ credits × ")


def _read(kind, description):
    """The names and fraction in an old description, or None."""
    match = None
    if kind == "plan" or kind == "plan_proration":
        match = _PLAN.match(description)
        names = match and {"subject": match["plan"]}
    elif kind in ("seats", "seat_proration"):
        match = _HOLDER.match(description)
        if match:
            names = {"subject": match["plan"] or match["plan_en"], "seat_email": match["email"]}
        else:
            match = _SEATS.match(description)
            names = match and {"subject": match["plan"]}
    elif kind == "credit":
        match = _UNUSED.match(description)
        names = match and {"subject": match["seat_plan"] or match["plan"], "seat_email": match["email"] or ""}
    elif kind == "addon":
        match = _ADDON.match(description)
        names = match and {"subject": match["addon"]}
    elif kind == "extra_credits":
        match = _CREDITS.match(description)
        names = match and {"subject": ""}
    if not match:
        return None
    groups = match.groupdict()
    if groups.get("r") is not None and int(groups["r"]) != int(groups["t"]):
        names["fraction"] = (int(groups["r"]), int(groups["t"]), groups["unit"])
    return names


def recovered_columns(kind, description, quantity, unit_amount_cents, amount_cents):
    """The new columns of an old line, or None when its numbers cannot be read back exactly."""
    names = _read(kind, description)
    if names is None or unit_amount_cents is None:
        return None
    fraction = names.pop("fraction", None)
    if fraction is None:
        fits = quantity * unit_amount_cents == amount_cents
    else:
        numerator, denominator, _unit = fraction
        fits = round_half_up(quantity * unit_amount_cents * numerator, denominator) == amount_cents
    if not fits:
        return None
    numerator, denominator, unit = fraction or (None, None, "")
    return {
        "subject": names["subject"],
        "seat_email": names.get("seat_email", ""),
        "fraction_numerator": numerator,
        "fraction_denominator": denominator,
        "fraction_unit": unit,
    }


def fill_line_numbers(apps, schema_editor):
    line_model = apps.get_model("invoices", "InvoiceLine")
    schema_editor.execute("SELECT set_config(%s, 'on', true)", [FILL_SETTING])
    rows = line_model.objects.filter(subject__isnull=True).exclude(description="").order_by("pk")
    last = 0
    while chunk := list(rows.filter(pk__gt=last)[:2_000]):
        last = chunk[-1].pk
        filled = []
        for line in chunk:
            columns = recovered_columns(
                line.kind, line.description, line.quantity, line.unit_amount_cents, line.amount_cents
            )
            if columns is not None:
                for name, value in columns.items():
                    setattr(line, name, value)
                filled.append(line)
        line_model.objects.bulk_update(filled, NEW_COLUMNS)
    schema_editor.execute("SELECT set_config(%s, 'off', true)", [FILL_SETTING])


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0004_invoice_dunning"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoiceline",
            name="fraction_numerator",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="fraction_denominator",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="fraction_unit",
            field=models.CharField(
                blank=True,
                choices=[("day", "days"), ("month", "months")],
                db_default="",
                default="",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="subject",
            field=models.CharField(blank=True, max_length=200, null=True),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="seat_email",
            field=models.CharField(blank=True, db_default="", default="", max_length=254),
        ),
        migrations.AlterField(
            model_name="invoiceline",
            name="description",
            field=models.TextField(
                blank=True,
                help_text="The words stored by a line issued before its words were written from its numbers.",
            ),
        ),
        migrations.AlterField(
            model_name="invoiceline",
            name="quantity",
            field=models.IntegerField(default=1, help_text="Negative for credits."),
        ),
        migrations.AddConstraint(
            model_name="invoiceline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        fraction_denominator__isnull=True, fraction_numerator__isnull=True, fraction_unit=""
                    ),
                    models.Q(
                        fraction_denominator__gt=0,
                        fraction_numerator__lte=models.F("fraction_denominator"),
                        fraction_unit__in=["day", "month"],
                    ),
                    _connector="OR",
                ),
                name="invoice_line_fraction_valid",
            ),
        ),
        migrations.RunSQL(GUARD, OLD_GUARD),
        migrations.RunPython(fill_line_numbers, migrations.RunPython.noop),
    ]
