"""The two operator groups, support and finance (docs/rules/operators.md#groups).

Their powers are in ``console.permissions``; the admin's read permissions are given to
both groups after every migration (``console.groups.grant_read_permissions``), once
Django has created the permissions of every model.
"""

from django.db import migrations

GROUPS = ("support", "finance")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, delete_groups)]
