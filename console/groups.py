"""The operator groups' rows: created by the migration, kept with the admin's read
permissions of every model, and joined by ``manage.py operator_add``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from console.permissions import GROUPS
from workspaces.models import User

#: The apps whose models operators read (the product's, the trail's, and users).
READ_APPS = (
    "workspaces", "subscriptions", "credits", "teams", "invoices", "billing", "stripe_gateway", "audit",
)  # fmt: skip


def grant_read_permissions(**_: Any) -> None:
    """Both groups read everything (docs/rules/operators.md#groups): the ``view``
    permission of each model. Writes never go through model permissions: the admin's
    edit forms are read-only and actions check :mod:`console.permissions`."""
    views = list(
        Permission.objects.filter(content_type__app_label__in=READ_APPS, codename__startswith="view_")
    )
    for name in GROUPS:
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*views)


@transaction.atomic
def operator_add(*, email: str, group: str) -> User:
    """Make the user with this email an operator of ``group`` (staff, in the group)."""
    if group not in GROUPS:
        raise ValueError(group)
    user = User.objects.get(email__iexact=email.strip())
    grant_read_permissions()
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=group))
    return user
