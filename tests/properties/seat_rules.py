"""What an admin does to the team: add, take back, remove members, change roles, seat
periods and ownership."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import (
    precondition,
    rule,
)

from invoices.selectors import account_balance_cents
from teams import services as teams
from teams.models import Seat, SeatStatus
from tests.properties import world
from tests.properties.machine import (
    INTERVALS,
    ROLES,
    BillingLifeBase,
    _pending_cents,
    _refused,
)
from tests.properties.model import CHANGE, REMOVAL, TRANSFER
from workspaces.models import Membership, Role


class SeatRules(BillingLifeBase):
    @rule(role=st.sampled_from(ROLES))
    def add_member(self, role: str) -> None:
        try:
            world.join(self.ws, self.owner, world.new_user("member"), role, now=self.now)
        except Exception as exc:
            if not _refused(exc):
                raise
            return self._skip(f"add {role}: refused ({type(exc).__name__})")
        self.steps.append(f"add {role}")
        self._observe(CHANGE, CHANGE)
        return None

    @precondition(lambda self: bool(self.removed_users))
    @rule(pick=st.integers(0, 20), role=st.sampled_from([Role.MEMBER, Role.ADMIN]))
    def add_back_removed_member(self, pick: int, role: str) -> None:
        """The same person again (the same day, their seat and its credit are taken back)."""
        user = self.removed_users[pick % len(self.removed_users)]
        if Membership.objects.filter(workspace=self.ws, user=user).exists():
            return self._skip("add back: already a member")
        removed = set(
            Seat.objects.filter(workspace=self.ws, user=user, status=SeatStatus.REMOVED).values_list(
                "pk", flat=True
            )
        )
        try:
            world.join(self.ws, self.owner, user, role, now=self.now)
        except Exception as exc:
            if not _refused(exc):
                raise
            return self._skip(f"add back: refused ({type(exc).__name__})")
        taken_back = Seat.objects.filter(pk__in=removed, status=SeatStatus.ACTIVE).exists()
        self.steps.append(f"add back {user.email} as {role}" + (" (seat taken back)" if taken_back else ""))
        self._observe(REMOVAL, REMOVAL)
        return None

    @precondition(lambda self: int(str(self.last.meta["members"])) > 1)
    @rule(pick=st.integers(0, 20))
    def remove_member(self, pick: int) -> None:
        """Removing a member: the credit previewed is the credit given (docs/rules/proration.md#removing-a-seat)."""
        members = world.others(self.ws)
        membership = members[pick % len(members)]
        owner = self.owner
        with world.clock(self.now):
            preview = teams.preview_member_removal(
                workspace=self.ws, actor=owner, membership=membership, now=self.now
            )
            balance = account_balance_cents(self.ws)
            pending = _pending_cents(self.ws)
            teams.member_remove(workspace=self.ws, actor=owner, membership=membership, now=self.now)
        credited = account_balance_cents(self.ws) - balance
        assert credited == preview.credit_cents, (
            f"remove: previewed a credit of {preview.credit_cents}, the balance moved {credited}"
        )
        assert pending - _pending_cents(self.ws) == preview.netted_cents, (
            f"remove: previewed {preview.netted_cents} off pending seat charges, took {pending - _pending_cents(self.ws)}"
        )
        self.removed_users.append(membership.user)
        self.steps.append(f"remove {membership.role} {membership.user.email}: credit {credited}")
        self._observe(REMOVAL, REMOVAL)

    @precondition(lambda self: int(str(self.last.meta["members"])) > 1)
    @rule(pick=st.integers(0, 20), role=st.sampled_from([Role.MEMBER, Role.GUEST, Role.VISITOR, Role.ADMIN]))
    def change_role(self, pick: int, role: str) -> None:
        """A licence gained takes a seat, a licence lost releases one (docs/rules/roles.md#licensed-roles)."""
        members = world.others(self.ws)
        membership = members[pick % len(members)]
        try:
            with world.clock(self.now):
                teams.membership_change_role(membership=membership, actor=self.owner, role=role, now=self.now)
        except Exception as exc:
            if not _refused(exc):
                raise
            return self._skip(f"role {role}: refused ({type(exc).__name__})")
        self.steps.append(f"{membership.user.email}: {membership.role} → {role}")
        self._observe(REMOVAL, REMOVAL)
        return None

    @precondition(lambda self: bool(self.last.meta["seats"]))
    @rule(pick=st.integers(0, 20), interval=st.sampled_from(INTERVALS))
    def change_seat_period(self, pick: int, interval: str) -> None:
        """A paid seat's billing period (docs/rules/proration.md#changing-a-seats-period)."""
        seats = list(
            Seat.objects.filter(workspace=self.ws, status=SeatStatus.ACTIVE)
            .select_related("membership")
            .order_by("id")
        )
        seat = seats[pick % len(seats)]
        assert seat.membership is not None
        try:
            with world.clock(self.now):
                teams.seat_billing_period_set(
                    workspace=self.ws,
                    actor=self.owner,
                    membership=seat.membership,
                    interval=interval,
                    now=self.now,
                )
        except Exception as exc:
            if not _refused(exc):
                raise
            return self._skip(f"seat period {interval}: refused ({type(exc).__name__})")
        self.steps.append(f"seat {seat.user_email} → {interval}")
        self._observe(TRANSFER, TRANSFER)
        return None

    @precondition(lambda self: int(str(self.last.meta["members"])) > 1)
    @rule(pick=st.integers(0, 20))
    def transfer_ownership(self, pick: int) -> None:
        """The owner hands the workspace to a member holding a seat (docs/rules/roles.md#ownership-transfer)."""
        licensed = [
            m for m in world.others(self.ws) if m.role in (Role.ADMIN, Role.BILLING_ADMIN, Role.MEMBER)
        ]
        if not licensed:
            return self._skip("transfer: nobody holds a seat")
        new_owner = licensed[pick % len(licensed)]
        with world.clock(self.now):
            teams.ownership_transfer(workspace=self.ws, actor=self.owner, new_owner=new_owner)
        assert Membership.objects.filter(workspace=self.ws, role=Role.OWNER).count() == 1
        self.steps.append(f"ownership → {new_owner.user.email}")
        self._observe(CHANGE, CHANGE)
        return None
