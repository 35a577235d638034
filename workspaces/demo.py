"""Demo users and workspaces (the demo users of README.md); safe to run again and again."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from workspaces.models import Membership, Role, User, Workspace

DEMO_PASSWORD = "demo-pass-2026"
ACME_NAME = "Acme"

#: address → role in Acme, as each address names.
ACME_USERS = {
    "owner@demo.test": Role.OWNER,
    "admin@demo.test": Role.ADMIN,
    "billing@demo.test": Role.BILLING_ADMIN,
    "member@demo.test": Role.MEMBER,
    "guest@demo.test": Role.GUEST,
}


def demo_user(email: str) -> User:
    """Get or create a demo user with a verified address and the demo password."""
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD)
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def demo_workspace(
    name: str, members: dict[str, str], *, joined: Mapping[str, datetime] | None = None
) -> Workspace:
    """Get or create the named demo workspace with exactly these roles for these users.

    ``joined`` dates the rows this call creates (the demo's history, docs/demo.md): each
    new member joins at their address's instant, and a new workspace is opened when its
    owner joined. Without an instant, a row is dated now. Existing rows keep their dates.
    """
    joined = joined or {}
    now = timezone.now()
    owner_email = next(email for email, role in members.items() if role == Role.OWNER)
    owner = demo_user(owner_email)
    workspace = (
        Workspace.objects.filter(name=name, memberships__user=owner, memberships__role=Role.OWNER)
        .order_by("created_at")
        .first()
    )
    if workspace is None:
        workspace = Workspace.objects.create(
            name=name, country="FR", billing_email=owner_email, created_at=joined.get(owner_email, now)
        )
    for email, role in members.items():
        Membership.objects.update_or_create(
            workspace=workspace,
            user=demo_user(email),
            defaults={"role": role},
            create_defaults={"role": role, "created_at": joined.get(email, now)},
        )
    return workspace


@transaction.atomic
def seed_acme(*, joined: Mapping[str, datetime] | None = None) -> Workspace:
    """Acme with its five demo users; ``joined``: when each arrived (see
    :func:`demo_workspace`)."""
    return demo_workspace(ACME_NAME, dict(ACME_USERS), joined=joined)
