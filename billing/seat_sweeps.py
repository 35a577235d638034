"""The daily seat job (seed 002: "Nous facturons le jour suivant l'ajout du membre").

:func:`run_seat_sweeps` is idempotent and safe to run late or twice for the same day:

1. seats of workspaces back on a plan with free seats (Free, expired) end with their
   subscription: charges not invoiced are cancelled, the time a seat on its own interval
   paid beyond the end is credited (:func:`teams.services.seat_end_with_subscription`);
2. co-termed seats follow their subscription into its new period (its renewal billed
   them, see :func:`teams.selectors.coterm_paid_seat_count`); a seat whose subscription
   moved to another interval keeps its own period and renews on its anniversary;
3. period changes whose seat's paid unit has ended take effect
   (:func:`teams.services.seat_period_changes_apply`);
4. seats not co-termed whose period ended are renewed for their next period, never past
   the end of a cancelled subscription: a renewal falling due before it is charged up to
   it only (``Seat.paid_until``), and the rest of the period if the subscription is
   reactivated and renews;
5. pending seat charges are invoiced: every change of one workspace and one day on ONE
   invoice (source ``seats:<workspace>:<day>``) the day after; renewals on the day they
   fall due (source ``seat-renewals:<workspace>:<day>``);
6. seat invoices are charged through the payment gateway, outside any transaction
   (key ``invoice:<id>:attempt:1``), then marked paid or failed; a failed one follows
   the subscription's dunning (retries 1, 3, 5 and 7 days later).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, tzinfo
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, prefetch_related_objects

from billing.services.collection import collect
from billing.services.settlement import invoice_issue
from domain.calendar import day_of, midnight
from domain.periods import Interval, period_containing
from domain.proration import Proration, charge_proration, removal_credit_proration
from gateways.base import PaymentError
from invoices.models import Invoice, InvoiceStatus
from subscriptions.models import Subscription, SubscriptionStatus
from subscriptions.selectors import subscription_of
from teams.models import ChargeKind, ChargeStatus, Seat, SeatCharge, SeatStatus
from teams.services import (
    charge_up_to,
    lock_seats,
    seat_end_with_subscription,
    seat_period_changes_apply,
    subscription_end,
    subscription_runs_at,
)
from teams.services.common import charge_lines, record_charge
from workspaces.models import Workspace
from workspaces.time_zones import billing_day_sql

logger = logging.getLogger(__name__)

SEAT_CHANGE_SOURCE = "seats"
SEAT_RENEWAL_SOURCE = "seat-renewals"


def run_seat_sweeps(*, now: datetime) -> dict[str, int]:
    """Run every seat step for ``now``; returns how many rows each step touched."""
    ended = end_seats_without_paid_plan(now=now)
    synced = sync_coterm_periods(now=now)
    period_changes = apply_period_changes(now=now)
    renewed = renew_due_seats(now=now)
    invoices = invoice_pending_charges(now=now)
    paid, failed = collect_seat_payments(now=now)
    return {
        "seats_ended": ended,
        "coterm_synced": synced,
        "seat_period_changes": period_changes,
        "seats_renewed": renewed,
        "seat_invoices": len(invoices),
        "seat_payments_succeeded": paid,
        "seat_payments_failed": failed,
    }


def end_seats_without_paid_plan(*, now: datetime) -> int:
    """Seats end when their workspace falls back to a plan whose seats are free (billing's
    expiry ends them already; this catches any left), as the expiry ends them."""
    unpaid = Subscription.objects.filter(workspace_id=OuterRef("workspace_id")).filter(
        Q(plan__seats_are_free=True) | Q(status=SubscriptionStatus.EXPIRED)
    )
    workspace_ids = (
        Seat.objects.filter(status=SeatStatus.ACTIVE)
        .filter(Exists(unpaid))
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    ended = 0
    for workspace_id in list(workspace_ids):
        with transaction.atomic():
            lock_seats(workspace_id)
            workspace = Workspace.objects.get(pk=workspace_id)
            subscription = subscription_of(workspace)
            if subscription_runs_at(subscription, now):
                continue  # subscribed again meanwhile
            for seat in Seat.objects.select_for_update().filter(
                workspace=workspace, status=SeatStatus.ACTIVE
            ):
                seat_end_with_subscription(seat, subscription, workspace=workspace, now=now)
                ended += 1
    return ended


def sync_coterm_periods(*, now: datetime) -> int:
    """Set-based: co-termed seats take their subscription's new period once it renewed."""
    renewed = Subscription.objects.filter(
        workspace_id=OuterRef("workspace_id"),
        price__interval=OuterRef("interval"),
        current_period_start__gte=OuterRef("period_end"),
    )
    same_interval = Subscription.objects.filter(
        workspace_id=OuterRef("workspace_id"), price__interval=OuterRef("interval")
    )
    with transaction.atomic():
        synced = (
            Seat.objects.filter(status=SeatStatus.ACTIVE, coterm=True, period_end__lte=now)
            .filter(Exists(renewed))
            .update(
                period_start=Subquery(renewed.values("current_period_start")[:1]),
                period_end=Subquery(renewed.values("current_period_end")[:1]),
            )
        )
        detached = (
            Seat.objects.filter(status=SeatStatus.ACTIVE, coterm=True)
            .exclude(Exists(same_interval))
            .update(coterm=False)
        )
    return synced + detached


def apply_period_changes(*, now: datetime) -> int:
    """Period changes whose seat's current paid unit has ended take effect (one
    transaction per workspace; an applied change is no longer due)."""
    workspace_ids = (
        Seat.objects.filter(status=SeatStatus.ACTIVE, pending_at__lte=now)
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    return sum(
        seat_period_changes_apply(workspace_id=workspace_id, now=now) for workspace_id in list(workspace_ids)
    )


def renew_due_seats(*, now: datetime) -> int:
    """Seats on their own interval renew on their anniversary: one renewal charge per
    seat and period (a unique constraint makes a second run a no-op)."""
    due = Q(period_end__lte=now) | Q(paid_until__lte=now)
    workspace_ids = (
        Seat.objects.filter(due, status=SeatStatus.ACTIVE, coterm=False)
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    renewed = 0
    for workspace_id in list(workspace_ids):
        with transaction.atomic():
            lock_seats(workspace_id)
            workspace = Workspace.objects.get(pk=workspace_id)
            subscription = subscription_of(workspace)
            seats = Seat.objects.select_for_update().filter(
                due, workspace=workspace, status=SeatStatus.ACTIVE, coterm=False
            )
            for seat in seats:
                renewed += _renew_seat(seat, subscription, now, workspace.billing_zone)
    return renewed


def _renewal_charge(
    seat: Seat,
    subscription: Subscription,
    proration: Proration,
    start: date,
    end: date,
    now: datetime,
    zone: tzinfo,
) -> int:
    """Record one renewal charge of ``seat`` for ``[start, end)``; 0 if it exists already."""
    try:
        with transaction.atomic():
            record_charge(
                seat=seat,
                kind=ChargeKind.RENEWAL,
                plan_name=subscription.plan.name,
                proration=proration,
                day=start,
                start=start,
                end=end,
                now=now,
                zone=zone,
            )
    except IntegrityError:
        logger.info("Seat %s already renewed for the period starting %s", seat.pk, start)
        return 0
    return 1


def _end_seat(seat: Seat, at: datetime) -> None:
    seat.status = SeatStatus.REMOVED
    seat.removed_at = at
    seat.membership = None


def _renew_seat(seat: Seat, subscription: Subscription, now: datetime, zone: tzinfo) -> int:
    """Renew ``seat`` period after period up to ``now``, never past its subscription's end
    (docs/rules/lifecycle.md#end-of-a-subscription-ends-its-seats): a renewal falling due
    before a cancelled subscription's end is charged up to it only, and the rest of that
    period once the subscription renews after all (reactivated)."""
    count = 0
    while True:
        if seat.paid_until is not None and seat.paid_until <= now:
            # The short renewal reached its subscription's end.
            if not subscription_runs_at(subscription, seat.paid_until):
                _end_seat(seat, seat.paid_until)
                break
            start, end = day_of(seat.period_start, zone), day_of(seat.period_end, zone)
            resumed = day_of(seat.paid_until, zone)
            rest = removal_credit_proration(seat.price_cents, start, end, resumed, Interval(seat.interval))
            count += _renewal_charge(seat, subscription, rest, resumed, end, now, zone)
            seat.paid_until = None
            continue
        if seat.period_end > now:
            break
        if not subscription_runs_at(subscription, seat.period_end):
            _end_seat(seat, seat.period_end)
            break
        start = day_of(seat.period_end, zone)
        _, end = period_containing(seat.anchor_date, Interval(seat.interval), start)
        proration = charge_proration(seat.price_cents, start, end, start, Interval(seat.interval))
        charge_end = end
        ends = subscription_end(subscription, zone)
        if ends is not None and start < ends < end:
            proration = charge_up_to(seat.price_cents, start, end, ends, seat.interval)
            charge_end = ends
            seat.paid_until = midnight(ends, zone)
        count += _renewal_charge(seat, subscription, proration, start, charge_end, now, zone)
        seat.period_start = midnight(start, zone)
        seat.period_end = midnight(end, zone)
    seat.save()
    return count


def invoice_pending_charges(*, now: datetime) -> list[Invoice]:
    """One invoice per workspace and day of change: seat changes the day after, renewals
    the day they fall due."""
    # "The day after" is read in each workspace's billing time zone.
    due = (
        SeatCharge.objects.filter(status=ChargeStatus.PENDING)
        .alias(today=billing_day_sql(now))
        .filter(Q(day__lt=F("today")) | Q(kind=ChargeKind.RENEWAL, day__lte=F("today")))
        .values_list("workspace_id", "day", "kind")
        .distinct()
    )
    groups: dict[tuple[Any, date, bool], None] = {}
    for workspace_id, day, kind in due:
        groups[(workspace_id, day, kind == ChargeKind.RENEWAL)] = None
    invoices = []
    for workspace_id, day, renewal in sorted(groups, key=lambda g: (g[1], str(g[0]), g[2])):
        invoice = _invoice_group(workspace_id, day, renewal=renewal, now=now)
        if invoice is not None:
            invoices.append(invoice)
    return invoices


@transaction.atomic
def _invoice_group(workspace_id: Any, day: date, *, renewal: bool, now: datetime) -> Invoice | None:
    lock_seats(workspace_id)
    charges = SeatCharge.objects.select_for_update().filter(
        workspace_id=workspace_id, day=day, status=ChargeStatus.PENDING
    )
    charges = charges.filter(kind=ChargeKind.RENEWAL) if renewal else charges.exclude(kind=ChargeKind.RENEWAL)
    pending = list(charges.order_by("id"))
    prefetch_related_objects(pending, "seat")  # their holders' emails, without locking the seats
    if not pending:
        return None
    workspace = Workspace.objects.get(pk=workspace_id)
    prefix = SEAT_RENEWAL_SOURCE if renewal else SEAT_CHANGE_SOURCE
    source = f"{prefix}:{workspace.pk}:{day.isoformat()}"
    if Invoice.objects.filter(workspace=workspace, source=source).exists():
        # Only a clock moved backwards brings charges to a day already invoiced:
        # bill them apart rather than lose them.
        logger.warning("Seat charges reached %s after it was invoiced", source)
        source = f"{source}:{pending[0].pk}"
    invoice = invoice_issue(
        workspace=workspace,
        lines=[line for charge in pending for line in charge_lines(charge)],
        billing_reason="subscription_cycle" if renewal else "seat_change",
        source=source,
        now=now,
    )
    SeatCharge.objects.filter(pk__in=[c.pk for c in pending]).update(
        status=ChargeStatus.INVOICED, invoice=invoice
    )
    return invoice


def _seat_invoices_to_charge() -> list[int]:
    seat_sources = Q(source__startswith=f"{SEAT_CHANGE_SOURCE}:") | Q(
        source__startswith=f"{SEAT_RENEWAL_SOURCE}:"
    )
    return list(
        Invoice.objects.filter(seat_sources, status=InvoiceStatus.OPEN, attempt_count=0)
        .order_by("issued_at", "id")
        .values_list("pk", flat=True)
    )


def collect_seat_payments(*, now: datetime) -> tuple[int, int]:
    """Charge the seat invoices not tried yet, outside any transaction.

    :func:`~billing.services.collection.collect` charges through the payment gateway
    (key ``invoice:<id>:attempt:1``) and records the outcome; a failed seat invoice enters
    dunning (docs/rules/dunning.md) like any other invoice.
    """
    succeeded = failed = 0
    for invoice_id in _seat_invoices_to_charge():
        try:
            outcome = collect(invoice_id=invoice_id, attempt=1, now=now)
        except PaymentError as exc:
            # Outcome unknown: the next run retries with the same key.
            logger.warning("Seat invoice %s: payment error %s", invoice_id, exc)
            continue
        if outcome.succeeded:
            succeeded += 1
        else:
            failed += 1
    return succeeded, failed
