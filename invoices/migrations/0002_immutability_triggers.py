"""Database guards: a finalized invoice is immutable, the account balance is append-only.

The services already refuse these writes; the triggers make the database refuse them
too, so no raw SQL, admin edit or future bug can rewrite an issued invoice or the
money-credit history. Errors are raised with SQLSTATE 23001 (restrict_violation),
which Django surfaces as ``IntegrityError``.

After finalization only the payment state may change: status (never back to draft),
paid_at, voided_at, refunded_at, attempt_count, next_payment_attempt_at,
payment_reference, payment_failure_message, pdf and receipt_sent_at. A column added to
``invoices_invoice`` later is mutable unless it is added to the protected list below.
"""

from django.db import migrations

PROTECTED_INVOICE_COLUMNS = (
    "workspace_id",
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

FORWARD = f"""
CREATE FUNCTION invoices_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER invoices_invoice_guard
    BEFORE UPDATE OR DELETE ON invoices_invoice
    FOR EACH ROW EXECUTE FUNCTION invoices_invoice_guard();

CREATE FUNCTION invoices_invoiceline_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER invoices_invoiceline_guard
    BEFORE INSERT OR UPDATE OR DELETE ON invoices_invoiceline
    FOR EACH ROW EXECUTE FUNCTION invoices_invoiceline_guard();

CREATE FUNCTION invoices_accountbalanceentry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the account balance history is append-only'
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER invoices_accountbalanceentry_guard
    BEFORE UPDATE OR DELETE ON invoices_accountbalanceentry
    FOR EACH ROW EXECUTE FUNCTION invoices_accountbalanceentry_guard();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS invoices_accountbalanceentry_guard ON invoices_accountbalanceentry;
DROP FUNCTION IF EXISTS invoices_accountbalanceentry_guard();
DROP TRIGGER IF EXISTS invoices_invoiceline_guard ON invoices_invoiceline;
DROP FUNCTION IF EXISTS invoices_invoiceline_guard();
DROP TRIGGER IF EXISTS invoices_invoice_guard ON invoices_invoice;
DROP FUNCTION IF EXISTS invoices_invoice_guard();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
