"""The workspaces a billing life runs on, what they hold at each step, and the clock.

Everything goes through the product's public services, as its pages and its scheduler
do: workspaces are opened by :func:`billing.onboarding.workspace_open`, members join by
invitation, cards are saved and charges authenticated through the test run's offline
Stripe as the card and confirmation pages do, and time moves with
``manage.py billing_tick --at`` run at every instant something falls due on the way
(beat runs the sweeps every few minutes; a test that jumped over a renewal would see a
late renewal, which :mod:`tests.properties.model` would have to guess).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from io import StringIO
from typing import Any

import requests
import time_machine
from django.conf import settings
from django.core.management import call_command

from billing.onboarding import workspace_open
from billing.services.billing_time_zone import billing_time_zone_change
from billing.services.payments import charge_answered
from gateways.base import get_gateway
from gateways.stripe.test_cards import save_test_card
from invoices.models import PAYABLE_STATUSES, Charge, Invoice, InvoiceStatus
from invoices.models import ChargeStatus as PaymentStatus
from invoices.selectors import account_balance_cents
from subscriptions.models import PendingChange, PendingChangeState, Subscription, SubscriptionStatus
from teams import services as teams
from teams.models import ChargeStatus, Seat, SeatCharge, SeatStatus
from tests.properties.checks import licences
from tests.properties.model import Holding, Key, Observation, Period
from workspaces.models import Membership, Role, User, Workspace
from workspaces.permissions import LICENSED_ROLES

#: Stripe's test cards (https://docs.stripe.com/testing): one that pays; one saved fine
#: whose every charge is declined; one saved fine whose every off-session charge asks the
#: payer to authenticate (3-D Secure, docs/rules/payments.md#authentication).
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
CARD_3DS = "4000002760003184"

_emails = itertools.count(1)


def zone_of(workspace: Workspace) -> tzinfo:
    """The zone the workspace's billing days are read in now (docs/rules/billing-calendar.md)."""
    return workspace.billing_zone


def day_in(workspace: Workspace, moment: datetime) -> date:
    return moment.astimezone(zone_of(workspace)).date()


def midnight_in(workspace: Workspace, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone_of(workspace)).astimezone(UTC)


def new_user(prefix: str) -> User:
    return User.objects.create_user(email=f"{prefix}{next(_emails)}@life.test")


#: Billing time zones a workspace may choose: its default, UTC, and both ends of the
#: world (UTC+14, UTC−11), where a billing day and a UTC day differ most.
ZONES = ["Europe/Paris", "UTC", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago"]


def choose_zone(workspace: Workspace, actor: Membership, zone: str, *, now: datetime) -> None:
    """The workspace's Settings page choosing a billing time zone."""
    billing_time_zone_change(workspace=workspace, actor=actor, zone=zone, now=now)


@contextmanager
def clock(now: datetime) -> Iterator[None]:
    """The product's clock stopped at ``now`` (services that read it: invitations, cards)."""
    with time_machine.travel(now, tick=False):
        yield


def open_workspace(name: str, *, now: datetime) -> tuple[Workspace, Membership]:
    with clock(now):
        owner = new_user("owner")
        workspace = workspace_open(owner=owner, name=name)
    return workspace, Membership.objects.get(workspace=workspace, role=Role.OWNER)


def save_card(workspace: Workspace, actor: Membership, number: str, *, now: datetime) -> None:
    """The card page saving one of Stripe's test cards (expiry far ahead); every unpaid
    invoice is then charged with it."""
    with clock(now):
        save_test_card(workspace=workspace, actor=actor, number=number, exp_month=12, exp_year=2099, now=now)


def awaiting_authentication(workspace: Workspace) -> list[Charge]:
    """The charges the payer can authenticate, oldest first: as the invoice's confirmation
    page offers it, the last attempt awaiting authentication of each unpaid invoice."""
    charges: dict[int, Charge] = {}
    for charge in (
        Charge.objects.filter(
            workspace=workspace,
            status=PaymentStatus.REQUIRES_ACTION,
            invoice__status__in=PAYABLE_STATUSES,
        )
        .exclude(reference="")
        .select_related("invoice")
        .order_by("attempt", "id")
    ):
        charges[charge.invoice_id] = charge
    return sorted(charges.values(), key=lambda charge: charge.pk)


def authenticate(charge: Charge, *, success: bool, now: datetime) -> None:
    """The payer on the invoice's confirmation page: Stripe.js runs the bank's check (the
    offline Stripe's test hook answers it), then the page reads the PaymentIntent back
    and settles the charge (gateways.stripe.pages.charge_authenticate)."""
    gateway = get_gateway()
    with clock(now):
        response = requests.post(
            f"{settings.STRIPE_API_BASE}/v1/payment_intents/{charge.reference}/_authenticate",
            data={
                "client_secret": gateway.authentication_secret(charge.reference),
                "success": "true" if success else "false",
            },
            headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
            timeout=30,
        )
        assert response.status_code == 200, f"authentication of {charge.reference}: {response.text}"
        charge_answered(charge_id=charge.pk, result=gateway.charge_status(charge.reference), now=now)


def join(workspace: Workspace, actor: Membership, user: User, role: str, *, now: datetime) -> Membership:
    """An invitation sent and accepted at ``now``, as the members page and the link do."""
    with clock(now):
        invitation = teams.invitation_create(workspace=workspace, actor=actor, email=user.email, role=role)
        return teams.invitation_accept(token=invitation.token, user=user, now=now)


def current_owner(workspace: Workspace) -> Membership:
    return Membership.objects.select_related("user").get(workspace=workspace, role=Role.OWNER)


def others(workspace: Workspace) -> list[Membership]:
    return list(
        Membership.objects.filter(workspace=workspace)
        .exclude(role=Role.OWNER)
        .select_related("user")
        .order_by("created_at", "id")
    )


# --- what the workspace holds (the model's observations) ------------------------------------------


def _subscription(workspace: Workspace) -> Subscription:
    return Subscription.objects.select_related("plan", "price").get(workspace=workspace)


def observe(
    workspace: Workspace,
    *,
    now: datetime,
    counted_end: str,
    own_end: str,
    renews: bool = False,
    ghosts: dict[Key, Holding] | None = None,
) -> Observation:
    """What the workspace holds after a step: the subscription's base and seats (unless on
    a trial or on Free) and each paid seat billed on its own interval, plus the ``ghosts``
    (what an expiry or a release forfeited, still counted to the end of its period); and,
    for the other checks, its plan, status, seats and the allowance its plan gives now."""
    workspace.refresh_from_db()

    def _day(moment: datetime) -> date:
        return day_in(workspace, moment)

    sub = _subscription(workspace)
    seats = list(Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE))
    holdings: dict[Key, Holding] = dict(ghosts or {})
    # A trial bills nothing of the subscription, cancelled or past due (a seat of its own
    # declined) as much as running; its period is the trial's.
    in_trial = sub.status == SubscriptionStatus.TRIALING or (
        sub.trial_end is not None and sub.current_period_end == sub.trial_end
    )
    billed = (
        not sub.plan.is_free
        and not in_trial
        and sub.status
        in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.CANCELED)
    )
    if billed:
        period = Period(
            start=_day(sub.current_period_start),
            end=_day(sub.current_period_end),
            annual=sub.price.interval == "year",
            anchor_day=sub.billing_anchor_day,
        )
        if sub.price.base_amount:
            holdings[("base", sub.pk, period.start, sub.price_id)] = Holding(
                period, int(sub.price.base_amount), 1
            )
        count = 0 if sub.plan.seats_are_free else sub.extra_seats + sum(1 for s in seats if s.coterm)
        if count and sub.price.seat_amount:
            holdings[("seats", sub.pk, period.start, sub.price_id)] = Holding(
                period, int(sub.price.seat_amount), count, counted=True
            )
    for seat in seats:
        if seat.coterm:
            continue
        period = Period(
            start=_day(seat.period_start),
            end=_day(seat.period_end),
            annual=seat.interval == "year",
            anchor_day=seat.anchor_date.day,
        )
        holdings[("own", seat.pk, period.start, seat.interval, seat.price_cents)] = Holding(
            period,
            int(seat.price_cents),
            1,
            paid_until=_day(seat.paid_until) if seat.paid_until else None,
        )
    members = Membership.objects.filter(workspace=workspace, role__in=LICENSED_ROLES)
    count_members = members.count()
    seated = members.filter(seats__status=SeatStatus.ACTIVE).distinct().count()
    licence_count = licences(
        members=count_members,
        seated=seated,
        paid=len(seats),
        extra=sub.extra_seats,
        included=sub.plan.included_seats,
        seats_free=sub.plan.seats_are_free,
        expired=sub.status == SubscriptionStatus.EXPIRED,
    )
    return Observation(
        at=now,
        day=_day(now),
        holdings=holdings,
        counted_end=counted_end,
        own_end=own_end,
        renews=renews,
        meta={
            "plan": sub.plan.code,
            "interval": sub.price.interval,
            "status": sub.status,
            "in_trial": in_trial,
            "members": Membership.objects.filter(workspace=workspace).count(),
            "unpaid": Invoice.objects.filter(workspace=workspace, status__in=PAYABLE_STATUSES).count(),
            "awaiting": len(awaiting_authentication(workspace)),
            "seats": frozenset(seat.pk for seat in seats),
            "coterm_seats": frozenset(seat.pk for seat in seats if seat.coterm),
            "allowance": int(sub.plan.credits_flat) + int(sub.plan.credits_per_seat) * licence_count,
        },
    )


def money_state(workspace: Workspace) -> dict[str, Any]:
    """What a confirmation may move: the account balance, the charges, documents and
    direct account credits, and the subscription's terms, status and paid seats."""
    sub = _subscription(workspace)
    return {
        "balance": account_balance_cents(workspace),
        "charges": set(Charge.objects.filter(workspace=workspace).values_list("pk", flat=True)),
        "invoices": set(Invoice.objects.filter(workspace=workspace).values_list("pk", flat=True)),
        "entries": set(
            workspace.account_balance_entries.filter(invoice__isnull=True).values_list("source", flat=True)
        ),
        "state": (
            sub.plan_id,
            sub.price_id,
            sub.status,
            sub.extra_seats,
            sub.current_period_start,
            sub.current_period_end,
            sorted(
                Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE).values_list(
                    "pk", "interval", "coterm", "price_cents"
                )
            ),
        ),
    }


def billing_digest(workspace: Workspace) -> tuple[object, ...]:
    """What a renewal's amount depends on: the subscription's terms and its paid seats."""
    sub = _subscription(workspace)
    seats = sorted(
        Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE).values_list(
            "pk", "coterm", "interval", "price_cents"
        )
    )
    return (
        sub.plan_id,
        sub.price_id,
        sub.status,
        sub.auto_renew,
        sub.extra_seats,
        sub.current_period_end,
        sub.trial_end,
        tuple(seats),
        # A zone chosen meanwhile moves the renewal's instant (not its day).
        Workspace.objects.filter(pk=workspace.pk).values_list("billing_time_zone_next", flat=True).first(),
    )


# --- the clock -----------------------------------------------------------------------------------


def due_instants(workspaces: Iterable[Workspace], after: datetime) -> list[datetime]:
    """Every instant after ``after`` at which a sweep has money to move for these
    workspaces: a paid period's end (renewal or expiry), a trial's end, a paid seat's
    period end, paid-until and period change, a failed invoice's next retry, the day
    after a pending seat charge (the daily job invoices it then) and the end of a waiting
    change's authentication window (it lapses then). Allowance resets are left to the
    next tick: they are safe late and move no money."""
    zones = {w.pk: w for w in workspaces}
    ids = list(zones)
    instants: set[datetime] = set()
    for sub in Subscription.objects.filter(workspace_id__in=ids, plan__is_free=False).exclude(
        status=SubscriptionStatus.EXPIRED
    ):
        instants.add(sub.current_period_end)
        if sub.trial_end is not None:
            instants.add(sub.trial_end)
    for period_end, paid_until, pending_at in Seat.objects.filter(
        workspace_id__in=ids, status=SeatStatus.ACTIVE
    ).values_list("period_end", "paid_until", "pending_at"):
        instants.update(i for i in (period_end, paid_until, pending_at) if i is not None)
    for retry in Invoice.objects.filter(
        workspace_id__in=ids, status=InvoiceStatus.FAILED, next_payment_attempt_at__isnull=False
    ).values_list("next_payment_attempt_at", flat=True):
        if retry is not None:
            instants.add(retry)
    for workspace_id, day in SeatCharge.objects.filter(
        workspace_id__in=ids, status=ChargeStatus.PENDING
    ).values_list("workspace_id", "day"):
        instants.add(midnight_in(zones[workspace_id], day + timedelta(days=1)))
    instants.update(
        PendingChange.objects.filter(
            subscription__workspace_id__in=ids, state=PendingChangeState.WAITING
        ).values_list("lapses_at", flat=True)
    )
    for workspace in Workspace.objects.filter(pk__in=ids):
        if workspace.billing_time_zone_next_at is not None:
            instants.add(workspace.billing_time_zone_next_at)
    return sorted(i for i in instants if i > after)


def tick(at: datetime) -> None:
    """``manage.py billing_tick --at`` with the clock at that instant."""
    with clock(at):
        call_command("billing_tick", at=at.isoformat(), stdout=StringIO())


def overdue(workspaces: Iterable[Workspace], at: datetime) -> bool:
    """A subscription back to active after its period ended (a late payment): the next
    sweep renews it; beat would run minutes later."""
    return Subscription.objects.filter(
        workspace__in=list(workspaces), status=SubscriptionStatus.ACTIVE, current_period_end__lte=at
    ).exists()


def end_of_month(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)
