"""Helpers for the billing × teams integration tests: real services, real sweeps."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import time_machine
from django.core.management import call_command

from invoices.models import Charge, Invoice
from teams import services as teams
from tests.factories import UserFactory
from tests.factories import save_card as save_card
from tests.factories import subscribe as subscribe
from workspaces.models import Membership, Role, Workspace

NBSP = "\u00a0"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def add_member(
    workspace: Workspace, owner: Membership, email: str, *, now: datetime, role: str = Role.MEMBER
) -> Membership:
    """A member added through teams (the seat rules apply)."""
    return teams.member_add(
        workspace=workspace, actor=owner, user=UserFactory(email=email), role=role, now=now
    )


def invite_and_join(workspace: Workspace, owner: Membership, email: str, *, now: datetime) -> Membership:
    """Invited by the owner, the invitation accepted at ``now``."""
    with time_machine.travel(now, tick=False):
        invitation = teams.invitation_create(workspace=workspace, actor=owner, email=email, role=Role.MEMBER)
        return teams.invitation_accept(token=invitation.token, user=UserFactory(email=email), now=now)


def tick(moment: datetime) -> str:
    """``manage.py billing_tick`` as beat would run it at ``moment`` (the clock travelled)."""
    out = StringIO()
    with time_machine.travel(moment, tick=False):
        call_command("billing_tick", stdout=out)
    return out.getvalue()


def invoices(workspace: Workspace) -> list[Invoice]:
    return list(
        Invoice.objects.filter(workspace=workspace).prefetch_related("lines").order_by("issued_at", "id")
    )


def lines_of(invoice: Invoice) -> list[tuple[str, int]]:
    return [(line.kind, line.amount_cents) for line in invoice.lines.order_by("position")]


def charged_cents(workspace: Workspace) -> int:
    return sum(
        Charge.objects.filter(workspace=workspace, status="succeeded").values_list("amount_cents", flat=True)
    )
