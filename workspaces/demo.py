"""Demo users and workspaces (the demo users of README.md); safe to run again and again."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

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


def demo_workspace(name: str, members: dict[str, str]) -> Workspace:
    """Get or create the named demo workspace with exactly these roles for these users."""
    owner_email = next(email for email, role in members.items() if role == Role.OWNER)
    owner = demo_user(owner_email)
    workspace = (
        Workspace.objects.filter(name=name, memberships__user=owner, memberships__role=Role.OWNER)
        .order_by("created_at")
        .first()
    )
    if workspace is None:
        workspace = Workspace.objects.create(name=name, country="FR", billing_email=owner_email)
    for email, role in members.items():
        Membership.objects.update_or_create(
            workspace=workspace, user=demo_user(email), defaults={"role": role}
        )
    return workspace


@transaction.atomic
def seed_acme() -> Workspace:
    return demo_workspace(ACME_NAME, dict(ACME_USERS))
