"""Reads of seats, scoped by workspace (docs/rules/plans.md#seats): the one place seats
are counted, for the members page, the caps, what the subscription bills for them and the
licences the AI credit allowance counts (:func:`licences_sql`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db import connection
from django.db.models import Prefetch

from domain.periods import Interval
from domain.seat_plan import SeatState
from subscriptions import pricing
from subscriptions.models import Channel, Plan, Subscription, SubscriptionStatus
from subscriptions.selectors import (
    RenewalQuote,
    Savings,
    addon_lines,
    annual_price_for,
    renewal_quote,
    savings_between,
    subscription_of,
)
from teams.models import Seat, SeatStatus
from workspaces.models import Invitation, Membership, Workspace
from workspaces.permissions import LICENSED_ROLES, holds_licence

#: docs/rules/plans.md#member-caps: a subscription bought on mobile holds the admin and
#: two others, no more.
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


def member_cap(subscription: Subscription, plan: Plan | None = None) -> int:
    """The most members holding a seat (docs/rules/plans.md#member-caps): ``plan``'s
    ``max_members`` (by default the subscription's plan), 3 when the subscription was
    bought on mobile."""
    cap = int((plan or subscription.plan).max_members)
    if subscription.channel == Channel.MOBILE:
        return min(cap, MOBILE_MAX_MEMBERS)
    return cap


def extra_seat_cap(subscription: Subscription, plan: Plan | None = None) -> int:
    """The most extra seats that can be bought on ``plan`` (by default the subscription's):
    the member cap minus the included seats (docs/rules/plans.md#member-caps)."""
    plan = plan or subscription.plan
    return max(0, member_cap(subscription, plan) - int(plan.included_seats))


def licensed_count(workspace: Workspace) -> int:
    """Members whose role holds a licence (docs/rules/roles.md#licensed-roles): the members
    holding a seat, what the member caps and the seat sync count. The licences the
    allowance counts also include the seats paid for and still empty (:func:`licence_count`)."""
    return Membership.objects.filter(workspace=workspace, role__in=LICENSED_ROLES).count()


def licences_sql(workspace: str, *, roles: str = "%(licensed)s") -> str:
    """docs/rules/credits.md#licences as one SQL scalar expression (``bigint``): the seats
    the workspace ``workspace`` (an SQL expression: a column or a placeholder) pays for,
    each counted once. ``roles`` binds the licensed roles as a text array
    (``list(LICENSED_ROLES)``).

    On a plan that charges for seats: the plan's included seats in use (by the members
    not holding a paid seat), plus every extra seat bought in advance
    (``Subscription.extra_seats``, filled or empty), plus every active paid seat (a
    :class:`~teams.models.Seat` row); never fewer than the members holding a licence.
    On a plan whose seats are free, or without a live subscription (Free): the members
    holding a licence. Guests and visitors are never licences.

    The one definition of the rule: the set-based allowance reset embeds it
    (:data:`credits.sql.RESET_LOCKED`) and :func:`licence_count` runs it.
    """
    return f"""(
    SELECT GREATEST(
               lm.members,
               CASE WHEN lp.id IS NULL OR lp.seats_are_free THEN lm.members
                    ELSE LEAST(lp.included_seats, lm.members - lm.seated) + ls.extra_seats + lm.paid END
           )::bigint
    FROM (
        SELECT count(*) AS members,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM teams_seat t WHERE t.membership_id = m.id AND t.status = '{SeatStatus.ACTIVE.value}'
               )) AS seated,
               (SELECT count(*) FROM teams_seat t
                WHERE t.workspace_id = {workspace} AND t.status = '{SeatStatus.ACTIVE.value}') AS paid
        FROM workspaces_membership m
        WHERE m.workspace_id = {workspace} AND m.role = ANY({roles}::text[])
    ) lm
    LEFT JOIN subscriptions_subscription ls
        ON ls.workspace_id = {workspace} AND ls.status <> '{SubscriptionStatus.EXPIRED.value}'
    LEFT JOIN subscriptions_plan lp ON lp.id = ls.plan_id
)"""


_LICENCE_COUNT = f"SELECT {licences_sql('%(ws)s')}"


def licence_count(workspace: Workspace) -> int:
    """The licences of docs/rules/credits.md#licences now: the very SQL the allowance
    reset counts (:func:`licences_sql`), for one workspace (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_LICENCE_COUNT, {"ws": workspace.pk, "licensed": list(LICENSED_ROLES)})
        return int(cursor.fetchone()[0])


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


# --- what the subscription bills for its seats ------------------------------------------------


def billable_seat_count(workspace: Workspace) -> int:
    """The seats the subscription's renewal bills: the extra seats and the co-termed paid
    seats (:func:`subscriptions.pricing.subscription_billable_seats`; none on plans whose
    seats are free; docs/rules/plans.md#prices)."""
    subscription = subscription_of(workspace)
    return pricing.subscription_billable_seats(
        subscription.plan,
        extra_seats=subscription.extra_seats,
        coterm_paid_seats=coterm_paid_seat_count(workspace),
    )


def annual_savings(workspace: Workspace) -> Savings | None:
    """12 × the monthly price − the annual price, for the current plan and the seats the
    subscription bills (extra + co-termed paid seats, which follow it to annual), from the
    real prices; ``None`` unless the subscription is monthly and an annual price exists
    (docs/rules/lifecycle.md#switch-to-annual)."""
    subscription = subscription_of(workspace)
    if subscription.plan.is_free or subscription.price.interval != Interval.MONTH:
        return None
    annual = annual_price_for(subscription.plan, subscription.price.currency)
    if annual is None:
        return None
    billable = pricing.subscription_billable_seats(
        subscription.plan,
        extra_seats=subscription.extra_seats,
        coterm_paid_seats=coterm_paid_seat_count(workspace),
    )
    return savings_between(
        monthly_cents=pricing.period_amount(subscription.price, billable),
        annual_cents=pricing.period_amount(annual, billable),
        currency=subscription.price.currency,
    )


def next_renewal(workspace: Workspace) -> RenewalQuote | None:
    """What the next renewal will charge and when; ``None`` when nothing renews (Free,
    cancelled)."""
    subscription = subscription_of(workspace)
    if subscription.plan.is_free or not subscription.auto_renew:
        return None
    if subscription.status == SubscriptionStatus.CANCELED:
        return None
    start = (
        subscription.trial_end
        if subscription.status == SubscriptionStatus.TRIALING and subscription.trial_end
        else subscription.current_period_end
    )
    return renewal_quote(
        workspace=workspace,
        plan=subscription.plan,
        price=subscription.price,
        extra_seats=subscription.extra_seats,
        coterm_paid_seats=coterm_paid_seat_count(workspace),
        addons=addon_lines(subscription),
        start=start,
        anchor_day=subscription.billing_anchor_day,
    )


# --- seats, one by one ---------------------------------------------------------------------------


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
