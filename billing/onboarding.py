"""Opening a workspace: its row and owner, a Free subscription and the Free allowance."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from billing.services import subscription_start_free
from credits.services import allowance_ensure_current
from workspaces.models import User, Workspace
from workspaces.services import workspace_create


@transaction.atomic
def workspace_open(*, owner: User, name: str, country: str = "FR", billing_email: str = "") -> Workspace:
    """Create a workspace whose creator is its one owner, on the Free plan with this
    month's Free credits (docs/rules/plans.md, docs/rules/credits.md)."""
    workspace = workspace_create(owner=owner, name=name, country=country, billing_email=billing_email)
    now = timezone.now()
    subscription_start_free(workspace=workspace, now=now)
    allowance_ensure_current(workspace=workspace, now=now)
    return workspace
