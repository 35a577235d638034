"""The ledger is append-only, enforced by PostgreSQL itself (docs/rules/credits.md#ledger).

A trigger refuses every UPDATE and DELETE on credits_ledgerentry, whatever the client.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION credits_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'credits_ledgerentry is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credits_ledger_append_only
    BEFORE UPDATE OR DELETE ON credits_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION credits_ledger_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS credits_ledger_append_only ON credits_ledgerentry;
DROP FUNCTION IF EXISTS credits_ledger_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
