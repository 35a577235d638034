"""Taking a seat: a member joins (invitation accepted, direct add) or gains a licence."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext

from audit.models import Kind as AuditKind
from audit.services import record as audit_record
from domain.calendar import day_of, midnight
from domain.periods import Interval
from domain.proration import charge_proration
from subscriptions.models import Subscription
from teams import selectors
from teams.models import ChargeKind, ChargeStatus, Seat, SeatCharge, SeatStatus
from teams.services.common import (
    charged_period,
    check_room,
    lock_seats,
    period_for,
    record_charge,
    save_charge,
    seat_price_cents,
    subscription_changed_since,
    subscription_locked,
)
from workspaces import errors as workspace_errors
from workspaces.models import Membership, Role, User, Workspace
from workspaces.permissions import Capability, holds_licence
from workspaces.services import require_capability

# --- taking a seat ----------------------------------------------------------------------


def _reusable_seat(workspace: Workspace, subscription: Subscription, user: User, today: date) -> Seat | None:
    """The seat this person released today, if any: re-adding them takes it back, unless
    the subscription changed its terms since (the seat's price, interval or period may no
    longer be its own; they then take a new seat, and the release's credit stands)."""
    zone = workspace.billing_zone
    seat = (
        Seat.objects.select_for_update()
        .filter(
            workspace=workspace,
            user=user,
            status=SeatStatus.REMOVED,
            removed_at__gte=midnight(today, zone),
            removed_at__lt=midnight(today + timedelta(days=1), zone),
        )
        .order_by("-removed_at", "-id")
        .first()
    )
    if seat is None or seat.removed_at is None:
        return None
    return None if subscription_changed_since(subscription, seat.removed_at) else seat


def _take_back(
    seat: Seat, membership: Membership, subscription: Subscription, now: datetime, zone: tzinfo
) -> Seat:
    today = day_of(now, zone)
    seat.membership = membership
    seat.status = SeatStatus.ACTIVE
    seat.removed_at = None
    # Charges the removal netted or cancelled today are due again, in full.
    SeatCharge.objects.filter(seat=seat, status=ChargeStatus.PENDING).update(
        amount_cents=F("original_amount_cents")
    )
    SeatCharge.objects.filter(
        seat=seat,
        status=ChargeStatus.CANCELED,
        canceled_at__gte=midnight(today, zone),
        canceled_at__lt=midnight(today + timedelta(days=1), zone),
    ).update(status=ChargeStatus.PENDING, amount_cents=F("original_amount_cents"), canceled_at=None)
    # A credit waiting for an unpaid charge's payment is not owed: the seat is held again.
    SeatCharge.objects.filter(seat=seat, credit_withheld_cents__gt=0).update(credit_withheld_cents=0)
    if seat.last_credit_cents:
        # The removal credited the unused time already: the same amount is due again.
        start, end = charged_period(seat, subscription, zone)
        save_charge(
            SeatCharge(
                workspace_id=seat.workspace_id,
                seat=seat,
                kind=ChargeKind.READDED,
                day=today,
                amount_cents=seat.last_credit_cents,
                original_amount_cents=seat.last_credit_cents,
                currency=seat.currency,
                plan_name=subscription.plan.name,
                price_cents=seat.last_credit_cents,
                period_start=midnight(max(start, today), zone),
                period_end=midnight(end, zone),
                created_at=now,
            )
        )
        seat.last_credit_cents = 0
    seat.save()
    return seat


def assign_seat(
    *, workspace: Workspace, membership: Membership, subscription: Subscription, now: datetime
) -> Seat | None:
    """Give a member who just took a licence a paid seat when no paid-for seat is free.

    The caller holds the seat lock and counted the member already.
    """
    plan = subscription.plan
    if plan.seats_are_free or subscription.pk is None:
        return None
    licensed_before = selectors.licensed_count(workspace) - (1 if holds_licence(membership.role) else 0)
    paid = selectors.paid_seat_count(workspace)
    if licensed_before < plan.included_seats + subscription.extra_seats + paid:
        return None  # an included or already-paid seat is free: nothing more to pay
    zone = workspace.billing_zone
    today = day_of(now, zone)
    reusable = _reusable_seat(workspace, subscription, membership.user, today)
    if reusable is not None:
        return _take_back(reusable, membership, subscription, now, zone)
    interval = subscription.price.interval
    period = period_for(subscription, interval, today, zone)
    seat = Seat.objects.create(
        workspace=workspace,
        membership=membership,
        user=membership.user,
        user_email=membership.user.email,
        interval=interval,
        coterm=period.coterm,
        anchor_date=period.anchor,
        period_start=midnight(period.start, zone),
        period_end=midnight(period.end, zone),
        price_cents=seat_price_cents(subscription, interval),
        currency=subscription.price.currency,
        added_at=now,
    )
    if period.coterm and not subscription_bills_from_today(subscription, today, zone):
        return seat
    record_charge(
        seat=seat,
        kind=ChargeKind.ADDED,
        plan_name=plan.name,
        proration=charge_proration(seat.price_cents, period.start, period.end, today, Interval(interval)),
        day=today,
        start=today,
        end=period.end,
        now=now,
        zone=zone,
    )
    return seat


def subscription_bills_from_today(subscription: Subscription, today: date, zone: tzinfo) -> bool:
    """Whether a co-termed seat taken ``today`` needs a seat charge of its own.

    Not during a trial: the trial's end invoices the co-termed seats with the plan. Not
    once the subscription's period is over but not renewed yet: its renewal invoices
    the co-termed seats for the next period (charging the seat too would bill it twice).
    """
    if subscription.in_trial(midnight(today, zone)):
        return False
    return today < day_of(subscription.current_period_end, zone)


def seat_on_member_joined(*, membership: Membership, now: datetime) -> Seat | None:
    """A member just joined (invitation accepted): enforce the caps, then seat them.

    Returns the paid seat they hold, or None (included seat, free plan, no licence).
    """
    if not holds_licence(membership.role):
        return None
    workspace = membership.workspace
    lock_seats(workspace.pk)
    subscription = subscription_locked(workspace)
    check_room(subscription, licensed_after=selectors.licensed_count(workspace))
    return assign_seat(workspace=workspace, membership=membership, subscription=subscription, now=now)


@transaction.atomic
def member_add(
    *, workspace: Workspace, actor: Membership, user: User, role: str, now: datetime
) -> Membership:
    """Add an existing user directly (demo data, operators): the same caps and seat rules
    as an accepted invitation."""
    require_capability(actor, Capability.MANAGE_MEMBERS)
    if actor.workspace_id != workspace.pk:
        raise workspace_errors.PermissionDenied()
    if role == Role.OWNER:
        raise workspace_errors.OwnerRoleNotAssignable()
    if role not in Role.values:
        raise workspace_errors.DomainError(gettext("Unknown role."))
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise workspace_errors.AlreadyMember()
    membership = Membership.objects.create(workspace=workspace, user=user, role=role, created_at=now)
    seat_on_member_joined(membership=membership, now=now)
    audit_record(
        kind=AuditKind.MEMBER_JOINED, workspace=workspace, actor=actor.user, object_type="membership",
        object_id=membership.pk, object_repr=user.email, after={"role": membership.role}, now=now,
    )  # fmt: skip
    return membership
