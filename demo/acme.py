"""Acme's billing demo data (docs/demo.md): Team Starter monthly (159,00 €/month)
with 5 extra seats, a Visa 4242 on file and a year of paid invoices.

Everything goes through the real services with explicit ``now``s, so the invoices,
numbers, charges and audit events are exactly what a year of use would have produced.
Safe to run again: an existing subscription is kept, and only renewals that have fallen
due since are added. The members' arrivals are dated on the same calendar
(:func:`acme_joined`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.utils import timezone

from billing.services import (
    apply_customize,
    apply_renew,
    apply_subscribe,
    preview_customize,
    preview_subscribe,
    subscription_start_free,
)
from demo.timeline import Step, play
from domain.calendar import day_of, midnight
from domain.periods import Interval, add_interval
from gateways.stripe.test_cards import save_test_card
from invoices.models import InvoiceLine, LineKind
from subscriptions.models import PaymentMethod, Price, Subscription, SubscriptionStatus
from workspaces.demo import ACME_USERS
from workspaces.models import Membership, Role, Workspace
from workspaces.time_zones import DEFAULT_BILLING_TIME_ZONE, zone_named

ACME_PLAN = "team-starter"
ACME_EXTRA_SEATS = 5
DEMO_CARD = "4242424242424242"
#: The time of day the owner opened the workspace, a year ago, and bought the subscription.
_OPENED_AT = timedelta(hours=9)
_BOUGHT_AT = timedelta(hours=9, minutes=30)
#: The extra credit pack: bought this many days before the seeding, at this time.
PACK_DAYS_AGO = 12
_PACK_AT = timedelta(hours=11)
#: Days after the purchase each other member joined (at 10:00): the admin and the billing
#: admin in the first weeks, the member a few weeks later, the guest last. The four
#: licences fit Team Starter's 5 included seats (5 extra seats are bought too), so no
#: arrival adds a paid seat: the year's invoices are the subscription's own.
ACME_JOINED_DAYS_AFTER_PURCHASE = {
    "admin@demo.test": 1,
    "billing@demo.test": 8,
    "member@demo.test": 22,
    "guest@demo.test": 64,
}
_JOINED_AT = timedelta(hours=10)


def _started(today: date) -> date:
    """The first day of Acme's subscription: a year ago, plus a day (12 monthly periods,
    the last one containing today)."""
    return add_interval(today, Interval.MONTH, anchor_day=today.day, count=-12) + timedelta(days=1)


def acme_joined(*, now: datetime, zone: ZoneInfo | None = None) -> dict[str, datetime]:
    """When each Acme member joined (docs/demo.md), for :func:`workspaces.demo.seed_acme`:
    the owner the morning the subscription was bought, opening the workspace, the others
    in the weeks after. ``zone``: Acme's billing time zone (a new workspace's default)."""
    zone = zone or zone_named(DEFAULT_BILLING_TIME_ZONE)
    started = _started(day_of(now, zone))
    owner = next(email for email, role in ACME_USERS.items() if role == Role.OWNER)
    joined = {owner: midnight(started, zone) + _OPENED_AT}
    for email, days in ACME_JOINED_DAYS_AFTER_PURCHASE.items():
        joined[email] = midnight(started + timedelta(days=days), zone) + _JOINED_AT
    return joined


def seed_acme_billing(acme: Workspace, *, now: datetime | None = None) -> Subscription:
    """Acme's whole billing history, played on its own."""
    play(acme_billing_history(acme, now=now or timezone.now()))
    return Subscription.objects.get(workspace=acme)


def acme_billing_history(acme: Workspace, *, now: datetime) -> list[Step]:
    """Acme's dated billing operations: bought a year ago (plus a day), then each monthly
    renewal as the sweep would have run it, a few minutes after the period ended."""
    zone = acme.billing_zone
    today = day_of(now, zone)
    started = _started(today)
    bought_at = midnight(started, zone) + _BOUGHT_AT
    history: list[Step] = [(bought_at, partial(_buy, acme, bought_at, card_expires=today.year + 3))]
    for count in range(1, 14):
        renew_at = midnight(
            add_interval(started, Interval.MONTH, anchor_day=started.day, count=count), zone
        ) + timedelta(minutes=5)
        if renew_at > now:
            break
        history.append((renew_at, partial(_renew_due, acme, renew_at)))
    # One extra credit pack bought through "Personnaliser le plan" twelve days ago: an
    # invoice paid with the card, its credits granted on payment (docs/demo.md).
    pack_at = midnight(today - timedelta(days=PACK_DAYS_AGO), zone) + _PACK_AT
    history.append((pack_at, partial(_buy_pack, acme, pack_at)))
    return history


def _buy_pack(acme: Workspace, at: datetime) -> None:
    """Buy one extra credit pack at ``at`` (nothing when an earlier seeding bought it)."""
    if InvoiceLine.objects.filter(invoice__workspace=acme, kind=LineKind.EXTRA_CREDITS).exists():
        return
    owner = Membership.objects.get(workspace=acme, role=Role.OWNER)
    extra = Subscription.objects.get(workspace=acme).extra_seats
    preview = preview_customize(workspace=acme, extra_seats=extra, credit_packs=1, now=at)
    apply_customize(workspace=acme, actor=owner, extra_seats=extra, credit_packs=1, preview=preview, now=at)


def _buy(acme: Workspace, bought_at: datetime, *, card_expires: int) -> None:
    owner = Membership.objects.get(workspace=acme, role=Role.OWNER)
    subscription_start_free(workspace=acme, now=bought_at)
    if not PaymentMethod.objects.filter(workspace=acme, is_default=True).exists():
        save_test_card(
            workspace=acme,
            actor=owner,
            number=DEMO_CARD,
            exp_month=12,
            exp_year=card_expires,
            now=bought_at,
        )
    subscription = Subscription.objects.select_related("plan").get(workspace=acme)
    if subscription.plan.is_free:
        price = Price.objects.get(
            plan__code=ACME_PLAN, interval=Interval.MONTH, currency=acme.currency, is_active=True
        )
        preview = preview_subscribe(
            workspace=acme, price_id=price.pk, extra_seats=ACME_EXTRA_SEATS, now=bought_at
        )
        apply_subscribe(
            workspace=acme,
            actor=owner,
            price_id=price.pk,
            extra_seats=ACME_EXTRA_SEATS,
            preview=preview,
            now=bought_at,
        )


def _renew_due(acme: Workspace, at: datetime) -> None:
    """Renew what is due at ``at`` (nothing when a previous run renewed it already)."""
    subscription = Subscription.objects.get(workspace=acme)
    while (
        subscription.status == SubscriptionStatus.ACTIVE
        and subscription.auto_renew
        and subscription.current_period_end <= at
    ):
        apply_renew(workspace=acme, now=subscription.current_period_end + timedelta(minutes=5))
        subscription.refresh_from_db()
