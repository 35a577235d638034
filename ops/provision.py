"""Workspaces for the load and the failure drills, made through the product's own services
(the same as signing up and opening a workspace), with ``CREDITS`` purchased credits on top
of the Free allowance: ``python -m ops.provision N PREFIX [CREDITS]`` prints one line per
workspace, ``<workspace id> <API key> <owner email>``."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.utils import timezone

    from billing.onboarding import workspace_open
    from credits import apikeys
    from credits.services import credits_grant_purchased
    from workspaces.models import User

    count, prefix = int(sys.argv[1]), sys.argv[2]
    purchased = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    for number in range(count):
        email = f"{prefix}-{number}@ops.test"
        owner = User.objects.create_user(email=email, password=None)
        workspace = workspace_open(owner=owner, name=f"{prefix} {number}", country="FR", billing_email="")
        _key, plain = apikeys.api_key_create(workspace=workspace, actor=None, name="load")
        if purchased:
            credits_grant_purchased(
                workspace=workspace, credits=purchased, amount_paid_cents=purchased, currency="EUR",
                source=f"ops:{prefix}:{number}", now=timezone.now(),
            )  # fmt: skip
        print(workspace.pk, plain, email, flush=True)


if __name__ == "__main__":
    main()
