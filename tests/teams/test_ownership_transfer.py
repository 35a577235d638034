"""Ownership passes only to a member whose role already holds a seat
(docs/rules/roles.md#ownership-transfer): an admin, a billing admin or a member, never a
guest or a visitor (who hold no licence: the workspace would count one member more than
its seats, and nobody would pay for that seat)."""

from __future__ import annotations

import pytest
from django.utils import translation

from teams import selectors
from teams import services as teams
from teams.models import Seat, SeatCharge
from tests.integration.helpers import add_member, at, save_card, subscribe
from workspaces.errors import DomainError
from workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db


def _pro_team_with(workspace, owner, role):
    """Pro monthly, the owner and two members on the included seats, and one more person
    with ``role``."""
    start = at(2026, 3, 1, 9)
    for n in range(2):
        add_member(workspace, owner, f"included{n}@team.test", now=start)
    save_card(workspace, owner, now=start)
    subscribe(workspace, owner, "pro", "month", now=start)
    return add_member(workspace, owner, f"{role}@team.test", role=role, now=at(2026, 3, 2, 9))


def _state(workspace):
    summary = selectors.seat_summary(workspace)
    return (
        sorted(Membership.objects.filter(workspace=workspace).values_list("pk", "role")),
        sorted(Seat.objects.filter(workspace=workspace).values_list("pk", "status")),
        SeatCharge.objects.filter(workspace=workspace).count(),
        (summary.licensed, summary.capacity),
    )


@pytest.mark.parametrize("role", [Role.GUEST, Role.VISITOR])
def test_ownership_never_passes_to_a_guest_or_a_visitor(workspace, owner, role):
    unseated = _pro_team_with(workspace, owner, role)
    before = _state(workspace)
    assert before[3] == (3, 3)  # "3 sur 3 UTILISATEURS": the guest holds no seat

    with pytest.raises(DomainError) as refused:
        teams.ownership_transfer(workspace=workspace, actor=owner, new_owner=unseated)

    assert refused.value.code == "ownership_needs_seat"
    with translation.override("en"):
        assert str(refused.value.message) == (
            "Ownership can only be transferred to a member who holds a seat (an admin, a billing "
            "admin or a member), never to a guest or a visitor. Change their role first."
        )
    with translation.override("fr"):
        assert str(refused.value.message) == (
            "La propriété ne peut être transférée qu’à un membre qui occupe un siège (un "
            "administrateur, un administrateur de facturation ou un membre), jamais à un invité ni "
            "à un visiteur. Changez d’abord son rôle."
        )
    assert _state(workspace) == before
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLING_ADMIN, Role.MEMBER])
def test_ownership_passes_to_a_member_holding_a_seat_and_the_seats_do_not_move(workspace, owner, role):
    seated = _pro_team_with(workspace, owner, role)  # the fourth licence: a paid seat
    before = _state(workspace)
    assert before[3] == (4, 4)

    teams.ownership_transfer(workspace=workspace, actor=owner, new_owner=seated)

    assert Membership.objects.get(pk=seated.pk).role == Role.OWNER
    assert Membership.objects.get(pk=owner.pk).role == Role.ADMIN
    assert Membership.objects.filter(workspace=workspace, role=Role.OWNER).count() == 1
    after = _state(workspace)
    assert after[1:] == before[1:]
