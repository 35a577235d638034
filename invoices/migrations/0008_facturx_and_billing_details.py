"""Factur-X and the buyer's billing details (docs/rules/invoices.md#factur-x).

New columns on the documents: ``parties`` (both parties' legal details as issued),
``einvoice_profile`` (``factur-x:en16931`` for a Factur-X document) and ``pdf_sha256``
(the stored PDF's hash). Adding them writes no row: every document issued before keeps
empty values, its number, amounts, parties and stored PDF exactly as they were, and stays
a plain PDF. The new table ``invoices_billingdetails`` holds what each workspace's
documents are made out to.

The immutability trigger now also protects ``parties`` and ``einvoice_profile``, and
once a stored PDF's hash is recorded, neither the file nor its hash may change.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

#: Migration 0003's protected columns.
PREVIOUS_PROTECTED_COLUMNS = (
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
#: What a finalized document never changes now (``invoices.models.PROTECTED_FIELDS``).
PROTECTED_INVOICE_COLUMNS = (*PREVIOUS_PROTECTED_COLUMNS, "parties", "einvoice_profile")


def _guard(columns):
    old = ", ".join(f"OLD.{c}" for c in columns)
    new = ", ".join(f"NEW.{c}" for c in columns)
    return f"""
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
        NEW.status = 'draft' OR ROW({new}) IS DISTINCT FROM ROW({old})
    ) THEN
        RAISE EXCEPTION 'invoice % is finalized: its amounts, number and parties cannot change', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.pdf_sha256 <> '' AND (NEW.pdf_sha256 IS DISTINCT FROM OLD.pdf_sha256 OR NEW.pdf IS DISTINCT FROM OLD.pdf)
    THEN
        RAISE EXCEPTION 'invoice % has its stored PDF: the file and its hash cannot change', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
"""


GUARD = _guard(PROTECTED_INVOICE_COLUMNS)
# Migration 0003's guard, put back when this migration is reversed (it never reads the new columns).
OLD_GUARD = _guard(PREVIOUS_PROTECTED_COLUMNS).replace(
    """    IF OLD.pdf_sha256 <> '' AND (NEW.pdf_sha256 IS DISTINCT FROM OLD.pdf_sha256 OR NEW.pdf IS DISTINCT FROM OLD.pdf)
    THEN
        RAISE EXCEPTION 'invoice % has its stored PDF: the file and its hash cannot change', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
""",
    "",
)


class Migration(migrations.Migration):

    dependencies = [
        ('invoices', '0007_credit_note_issued_status'),
        ('workspaces', '0002_billing_time_zone'),
    ]

    operations = [
        migrations.AddField(
            model_name='invoice',
            name='einvoice_profile',
            field=models.CharField(blank=True, db_default='', default='', max_length=32),
        ),
        migrations.AddField(
            model_name='invoice',
            name='parties',
            field=models.JSONField(blank=True, db_default={}, default=dict),
        ),
        migrations.AddField(
            model_name='invoice',
            name='pdf_sha256',
            field=models.CharField(blank=True, db_default='', default='', max_length=64),
        ),
        migrations.CreateModel(
            name='BillingDetails',
            fields=[
                ('workspace', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='billing_details', serialize=False, to='workspaces.workspace')),
                ('legal_name', models.CharField(blank=True, max_length=200, verbose_name='legal name')),
                ('street', models.TextField(blank=True, verbose_name='address')),
                ('postal_code', models.CharField(blank=True, max_length=16, verbose_name='postal code')),
                ('city', models.CharField(blank=True, max_length=100, verbose_name='city')),
                ('registration_number', models.CharField(blank=True, max_length=14, verbose_name='SIREN or SIRET')),
                ('purchase_order', models.CharField(blank=True, max_length=100, verbose_name='purchase order reference')),
                ('extra_emails', models.TextField(blank=True, verbose_name='other billing emails')),
                ('language', models.CharField(choices=[('fr', 'French'), ('en', 'English')], default='fr', max_length=8, verbose_name='billing language')),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'verbose_name_plural': 'billing details',
                'constraints': [models.CheckConstraint(condition=models.Q(('language__in', ['fr', 'en'])), name='billing_details_language_valid'), models.CheckConstraint(condition=models.Q(('registration_number', ''), ('registration_number__regex', '^([0-9]{9}|[0-9]{14})$'), _connector='OR'), name='billing_details_registration_digits')],
            },
        ),
        migrations.RunSQL(GUARD, OLD_GUARD),
    ]
