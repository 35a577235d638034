"""Reads of seats, scoped by workspace (seed 002, SPEC.md "Plans")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import Prefetch, QuerySet

from domain.seat_plan import SeatState
from subscriptions.models import Channel, Subscription
from subscriptions.selectors import subscription_of
from teams.models import Seat, SeatCharge, SeatStatus
from workspaces.models import Invitation, Membership, Role, Workspace
from workspaces.permissions import holds_licence

#: Roles whose members hold a licence, i.e. take a seat; guests and visitors hold none.
LICENSED_ROLES: tuple[str, ...] = tuple(role for role in Role.values if holds_licence(role))
#: Seed 002: a team bought on mobile holds the admin and 2 others, no more.
MOBILE_MAX_MEMBERS = 3

SeatKind = Literal["included", "paid", "none"]


@dataclass(frozen=True)
class SeatSummary:
    """The users counter ("5 sur 10 UTILISATEURS") and the numbers behind it.

    ``capacity`` is ``included + extra_capacity + paid``, or ``max_members`` on plans
    whose seats are free; ``max_members`` is the plan's cap, 3 on a mobile subscription.
    """

    licensed: int
    included: int
    extra_capacity: int
    paid: int
    capacity: int
    max_members: int

    @property
    def free_slots(self) -> int:
        """Seats already paid for (included or bought) that nobody holds."""
        return max(0, self.capacity - self.licensed)


def member_cap(subscription: Subscription) -> int:
    """The most members holding a seat: the plan's ``max_members``, 3 on mobile (seed 002)."""
    cap = int(subscription.plan.max_members)
    if subscription.channel == Channel.MOBILE:
        return min(cap, MOBILE_MAX_MEMBERS)
    return cap


def licensed_count(workspace: Workspace) -> int:
    return Membership.objects.filter(workspace=workspace, role__in=LICENSED_ROLES).count()


def paid_seat_count(workspace: Workspace) -> int:
    return Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE).count()


def summary_for(subscription: Subscription, *, licensed: int, paid: int) -> SeatSummary:
    """The seat summary from counts already read (services reuse it under their lock)."""
    plan = subscription.plan
    cap = member_cap(subscription)
    if plan.seats_are_free:
        return SeatSummary(
            licensed=licensed, included=cap, extra_capacity=0, paid=0, capacity=cap, max_members=cap
        )
    included = int(plan.included_seats)
    extra = int(subscription.extra_seats)
    return SeatSummary(
        licensed=licensed,
        included=included,
        extra_capacity=extra,
        paid=paid,
        capacity=included + extra + paid,
        max_members=cap,
    )


def seat_summary(workspace: Workspace) -> SeatSummary:
    """Seats of the workspace: licensed members of the capacity (a constant number of queries)."""
    return summary_for(
        subscription_of(workspace), licensed=licensed_count(workspace), paid=paid_seat_count(workspace)
    )


def coterm_paid_seat_count(workspace: Workspace) -> int:
    """Active paid seats co-termed with the subscription: the seats its renewal bills.

    A subscription renewal bills ``base + seat_amount x (extra_seats + this count)``
    (:func:`subscriptions.pricing.subscription_billable_seats`; the renewal sweep counts
    the same rows in its one locking query); paid seats on another interval renew on
    their own anniversary (the daily seat job).
    """
    return Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE, coterm=True).count()


def seat_states(workspace: Workspace) -> tuple[SeatState, ...]:
    """The active paid seats as plain values (one query), for :func:`domain.seat_plan.plan_seats`."""
    rows = (
        Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE)
        .order_by("added_at", "id")
        .values_list(
            "id", "user_email", "interval", "coterm", "price_cents", "period_start", "period_end", "added_at"
        )
    )
    return tuple(
        SeatState(
            id=pk,
            email=email,
            interval=interval,
            coterm=coterm,
            price_cents=int(price_cents),
            period_start=period_start,
            period_end=period_end,
            added_at=added_at,
        )
        for pk, email, interval, coterm, price_cents, period_start, period_end, added_at in rows
    )


def active_seats(workspace: Workspace) -> QuerySet[Seat]:
    return Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE).order_by("added_at", "id")


def seat_of(workspace: Workspace, membership: Membership) -> Seat | None:
    return Seat.objects.filter(workspace=workspace, membership=membership, status=SeatStatus.ACTIVE).first()


@dataclass(frozen=True)
class MemberRow:
    """One line of the members page: the member, the seat they hold, its billing period."""

    membership: Membership
    seat: Seat | None
    seat_kind: SeatKind


def member_rows(workspace: Workspace) -> list[MemberRow]:
    """Members with their seat kind (two queries, whatever the number of members)."""
    memberships = (
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .prefetch_related(
            Prefetch("seats", queryset=Seat.objects.filter(status=SeatStatus.ACTIVE), to_attr="active_seats")
        )
        .order_by("created_at", "id")
    )
    rows = []
    for membership in memberships:
        seats: list[Seat] = membership.active_seats  # type: ignore[attr-defined]
        seat = seats[0] if seats else None
        kind: SeatKind = "none" if not holds_licence(membership.role) else ("paid" if seat else "included")
        rows.append(MemberRow(membership=membership, seat=seat, seat_kind=kind))
    return rows


def pending_licensed_invitations(workspace: Workspace, *, now: datetime) -> int:
    """Unexpired pending invitations for a role that will take a seat."""
    return (
        Invitation.objects.filter(workspace=workspace, role__in=LICENSED_ROLES, expires_at__gt=now)
        .pending()
        .count()
    )


def seat_charges_of(workspace: Workspace) -> QuerySet[SeatCharge]:
    return (
        SeatCharge.objects.filter(workspace=workspace).select_related("seat", "invoice").order_by("day", "id")
    )
