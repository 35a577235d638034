"""The "Studio" demo workspace (docs/demo.md): Pro, annual, owned by
owner@demo.test with admin@, member@ and guest@ in their roles, plus seat1@ … seat9@ on
paid seats billed weekly, monthly and annually.

Everything goes through the real services with explicit ``now``s: the owner opens the
workspace on 1 January and buys the subscription half an hour later, the nine members
join ten days ago and get their billing period the same day, and the daily seat job runs
for every day since, so the seat invoices and renewals are what the product would have
produced. Safe to run again: existing members
are kept and only the days not swept yet add anything.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.utils import timezone

from billing.seat_sweeps import run_seat_sweeps
from billing.services import apply_subscribe, preview_subscribe, subscription_start_free
from demo.timeline import Step, play
from domain.calendar import day_of, midnight
from domain.periods import Interval
from gateways.stripe.test_cards import save_test_card
from subscriptions.models import PaymentMethod, Price, Subscription
from teams import services
from workspaces.demo import demo_user, demo_workspace
from workspaces.models import Membership, Role, Workspace
from workspaces.time_zones import DEFAULT_BILLING_TIME_ZONE, zone_named

STUDIO_NAME = "Studio"
STUDIO_OWNER = "owner@demo.test"
#: Members on the included seats (with the owner) and the guest, who holds no seat.
STUDIO_ROLES = {"admin@demo.test": Role.ADMIN, "member@demo.test": Role.MEMBER, "guest@demo.test": Role.GUEST}
#: The nine paid seats and their billing periods.
STUDIO_SEATS = {
    f"seat{n}@demo.test": interval
    for n, interval in zip(
        range(1, 10),
        [Interval.WEEK] * 3 + [Interval.MONTH] * 3 + [Interval.YEAR] * 3,
        strict=True,
    )
}
DEMO_CARD = "4242424242424242"
#: When the paid members joined, before today.
SEATS_JOINED_DAYS_AGO = 10
#: The time of day the subscription was bought, and how long after the owner opened the
#: workspace.
_BOUGHT_AT = timedelta(hours=9)
_OPENED_BEFORE_PURCHASE = timedelta(minutes=30)


def _bought_on(today: date) -> date:
    return date(today.year, 1, 1)


def _bought_at(now: datetime, zone: ZoneInfo) -> datetime:
    return midnight(_bought_on(day_of(now, zone)), zone) + _BOUGHT_AT


def seed_studio(*, now: datetime | None = None) -> Workspace:
    """Studio's whole history, played on its own."""
    studio, history = studio_history(now=now or timezone.now())
    play(history)
    return studio


def studio_history(*, now: datetime) -> tuple[Workspace, list[Step]]:
    """The Studio workspace and its dated operations: opened by its owner on 1 January and
    bought half an hour later, its members in their roles an hour after that, the nine paid
    members ten days ago with their billing periods, then the daily seat job as beat would
    have run it every night since."""
    # A new workspace's billing time zone is the default one.
    opened_at = min(_bought_at(now, zone_named(DEFAULT_BILLING_TIME_ZONE)) - _OPENED_BEFORE_PURCHASE, now)
    studio = demo_workspace(STUDIO_NAME, {STUDIO_OWNER: Role.OWNER}, joined={STUDIO_OWNER: opened_at})
    zone = studio.billing_zone
    today = day_of(now, zone)
    bought_at = _bought_at(now, zone)
    joined_at = max(midnight(today - timedelta(days=SEATS_JOINED_DAYS_AGO), zone), bought_at) + timedelta(
        hours=10
    )
    history: list[Step] = [
        (bought_at, partial(_buy, studio, bought_at, card_expires=today.year + 3)),
        (bought_at + timedelta(hours=1), partial(_join_roles, studio, bought_at + timedelta(hours=1))),
        (joined_at, partial(_join_paid_seats, studio, joined_at)),
    ]
    day = day_of(joined_at, zone) + timedelta(days=1)
    while day <= today:
        swept_at = midnight(day, zone) + timedelta(hours=2)
        history.append((swept_at, partial(run_seat_sweeps, now=swept_at)))
        day += timedelta(days=1)
    return studio, history


def _owner(studio: Workspace) -> Membership:
    return Membership.objects.get(workspace=studio, role=Role.OWNER)


def _buy(studio: Workspace, bought_at: datetime, *, card_expires: int) -> None:
    owner = _owner(studio)
    subscription_start_free(workspace=studio, now=bought_at)
    if not PaymentMethod.objects.filter(workspace=studio, is_default=True).exists():
        save_test_card(
            workspace=studio,
            actor=owner,
            number=DEMO_CARD,
            exp_month=12,
            exp_year=card_expires,
            now=bought_at,
        )
    if Subscription.objects.select_related("plan").get(workspace=studio).plan.is_free:
        price = Price.objects.get(
            plan__code="pro", interval=Interval.YEAR, currency=studio.currency, is_active=True
        )
        preview = preview_subscribe(workspace=studio, price_id=price.pk, now=bought_at)
        apply_subscribe(workspace=studio, actor=owner, price_id=price.pk, preview=preview, now=bought_at)


def _join_roles(studio: Workspace, at: datetime) -> None:
    owner = _owner(studio)
    for email, role in STUDIO_ROLES.items():
        _join(studio, owner, email, role, at)


def _join_paid_seats(studio: Workspace, joined_at: datetime) -> None:
    owner = _owner(studio)
    for email, interval in STUDIO_SEATS.items():
        membership = _join(studio, owner, email, Role.MEMBER, joined_at)
        if membership is not None and interval != Interval.YEAR:
            services.seat_billing_period_set(
                workspace=studio, actor=owner, membership=membership, interval=interval, now=joined_at
            )


def _join(studio: Workspace, owner: Membership, email: str, role: str, at: datetime) -> Membership | None:
    user = demo_user(email)
    if Membership.objects.filter(workspace=studio, user=user).exists():
        return None
    return services.member_add(workspace=studio, actor=owner, user=user, role=role, now=at)
