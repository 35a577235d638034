"""Invitation tokens are kept only as their SHA-256: the column is renamed and each
existing token replaced by its hash, so links already sent keep working."""

import hashlib

from django.db import migrations, models


def hash_tokens(apps, schema_editor):
    Invitation = apps.get_model("workspaces", "Invitation")
    for invitation in Invitation.objects.only("pk", "token_hash").iterator():
        invitation.token_hash = hashlib.sha256(invitation.token_hash.encode()).hexdigest()
        invitation.save(update_fields=["token_hash"])


class Migration(migrations.Migration):
    dependencies = [
        ("workspaces", "0002_billing_time_zone"),
    ]

    operations = [
        migrations.RenameField(model_name="invitation", old_name="token", new_name="token_hash"),
        migrations.AlterField(
            model_name="invitation",
            name="token_hash",
            field=models.CharField(max_length=64, unique=True, editable=False),
        ),
        # Irreversible: a hash cannot give the token back.
        migrations.RunPython(hash_tokens, migrations.RunPython.noop, elidable=False),
    ]
