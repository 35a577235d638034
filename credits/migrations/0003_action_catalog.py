from django.db import migrations


def load(apps, schema_editor):
    from credits.catalog import load_action_catalog

    load_action_catalog(apps.get_model("credits", "ActionType"))


class Migration(migrations.Migration):
    dependencies = [("credits", "0002_ledger_append_only")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
