"""Credit notes: a document type, the invoice a credit note corrects, a number series per
document type (``INV``, ``AV``), and the immutability trigger extended to both new columns.

Existing rows are invoices, and the yearly counter's rows move to the ``INV`` series
unchanged: no issued document changes.
"""

import django.db.models.deletion
from django.db import migrations, models

PROTECTED_INVOICE_COLUMNS = (
    "workspace_id",
    "document_type",
    "corrects_id",
    "currency",
    "number",
    "language",
    "billing_reason",
    "source",
    "created_at",
    "issued_at",
    "due_at",
    "subtotal_cents",
    "vat_rate_bp",
    "vat_cents",
    "account_credit_applied_cents",
    "total_cents",
    "amount_due_cents",
    "reverse_charge",
    "seller_name",
    "seller_address",
    "seller_country",
    "seller_vat_number",
    "seller_siren",
    "buyer_name",
    "buyer_email",
    "buyer_country",
    "buyer_vat_number",
)
_OLD = ", ".join(f"OLD.{c}" for c in PROTECTED_INVOICE_COLUMNS)
_NEW = ", ".join(f"NEW.{c}" for c in PROTECTED_INVOICE_COLUMNS)

GUARD = f"""
CREATE OR REPLACE FUNCTION invoices_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is finalized and cannot be deleted', OLD.number
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        NEW.status = 'draft' OR ROW({_NEW}) IS DISTINCT FROM ROW({_OLD})
    ) THEN
        RAISE EXCEPTION 'invoice % is finalized: its amounts, number and parties cannot change', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
"""


def copy_counters(apps, schema_editor):
    old = apps.get_model("invoices", "InvoiceNumberCounterOld")
    new = apps.get_model("invoices", "InvoiceNumberCounter")
    new.objects.bulk_create(
        new(series="INV", year=row.year, last_number=row.last_number) for row in old.objects.all()
    )


def copy_counters_back(apps, schema_editor):
    old = apps.get_model("invoices", "InvoiceNumberCounterOld")
    new = apps.get_model("invoices", "InvoiceNumberCounter")
    old.objects.bulk_create(
        old(year=row.year, last_number=row.last_number) for row in new.objects.filter(series="INV")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0002_immutability_triggers"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="document_type",
            field=models.CharField(
                choices=[("invoice", "Invoice"), ("credit_note", "Credit note")], default="invoice", max_length=16
            ),
        ),
        migrations.AddField(
            model_name="invoice",
            name="corrects",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="credit_notes",
                to="invoices.invoice",
            ),
        ),
        migrations.AlterField(
            model_name="invoice",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("open", "Open"),
                    ("paid", "Paid"),
                    ("failed", "Failed"),
                    ("void", "Void"),
                    ("refunded", "Refunded"),
                    ("credited", "Credited"),
                ],
                default="draft",
                max_length=16,
            ),
        ),
        migrations.RemoveConstraint(model_name="invoice", name="invoice_status_valid"),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["draft", "open", "paid", "failed", "void", "refunded", "credited"])
                ),
                name="invoice_status_valid",
            ),
        ),
        migrations.RemoveConstraint(model_name="invoice", name="invoice_totals_add_up"),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(total_cents=models.F("subtotal_cents") + models.F("vat_cents"))
                & (
                    models.Q(
                        document_type="invoice",
                        total_cents__gte=0,
                        amount_due_cents=models.F("total_cents") - models.F("account_credit_applied_cents"),
                    )
                    | models.Q(
                        document_type="credit_note",
                        total_cents__lt=0,
                        amount_due_cents=0,
                        account_credit_applied_cents=0,
                    )
                ),
                name="invoice_totals_add_up",
            ),
        ),
        migrations.RunSQL(GUARD, migrations.RunSQL.noop),
        migrations.RenameModel("InvoiceNumberCounter", "InvoiceNumberCounterOld"),
        migrations.CreateModel(
            name="InvoiceNumberCounter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("series", models.CharField(default="INV", max_length=8)),
                ("year", models.PositiveIntegerField()),
                ("last_number", models.PositiveIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("series", "year"), name="invoice_counter_series_year")
                ]
            },
        ),
        migrations.RunPython(copy_counters, copy_counters_back),
        migrations.DeleteModel("InvoiceNumberCounterOld"),
    ]
