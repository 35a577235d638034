from django.db import migrations


def load(apps, schema_editor):
    from subscriptions.catalog import load_demo_catalog

    load_demo_catalog(
        apps.get_model("subscriptions", "Plan"),
        apps.get_model("subscriptions", "Price"),
        apps.get_model("subscriptions", "AddOn"),
    )


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
