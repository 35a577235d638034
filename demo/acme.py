"""Acme's billing demo data (docs/demo.md): Team Starter monthly (159,00 €/month)
with 5 extra seats, a Visa 4242 on file and a year of paid invoices.

Everything goes through the real services with explicit ``now``s, so the invoices,
numbers, charges and audit events are exactly what a year of use would have produced.
Safe to run again: an existing subscription is kept, and only renewals that have fallen
due since are added.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.utils import timezone

from billing.services import (
    apply_renew,
    apply_subscribe,
    preview_subscribe,
    subscription_start_free,
)
from demo.timeline import Step, play
from domain.calendar import day_of, midnight
from domain.periods import Interval, add_interval
from gateways.stripe.test_cards import save_test_card
from subscriptions.models import PaymentMethod, Price, Subscription, SubscriptionStatus
from workspaces.models import Membership, Role, Workspace

ACME_PLAN = "team-starter"
ACME_EXTRA_SEATS = 5
DEMO_CARD = "4242424242424242"
#: The time of day the demo subscription was bought, a year ago.
_BOUGHT_AT = timedelta(hours=9, minutes=30)


def seed_acme_billing(acme: Workspace, *, now: datetime | None = None) -> Subscription:
    """Acme's whole billing history, played on its own."""
    play(acme_billing_history(acme, now=now or timezone.now()))
    return Subscription.objects.get(workspace=acme)


def acme_billing_history(acme: Workspace, *, now: datetime) -> list[Step]:
    """Acme's dated billing operations: bought a year ago (plus a day), then each monthly
    renewal as the sweep would have run it, a few minutes after the period ended."""
    zone = acme.billing_zone
    today = day_of(now, zone)
    # A year ago, plus a day: 12 monthly periods, the last one containing today.
    started = add_interval(today, Interval.MONTH, anchor_day=today.day, count=-12) + timedelta(days=1)
    bought_at = midnight(started, zone) + _BOUGHT_AT
    history: list[Step] = [(bought_at, partial(_buy, acme, bought_at, card_expires=today.year + 3))]
    for count in range(1, 14):
        renew_at = midnight(
            add_interval(started, Interval.MONTH, anchor_day=started.day, count=count), zone
        ) + timedelta(minutes=5)
        if renew_at > now:
            break
        history.append((renew_at, partial(_renew_due, acme, renew_at)))
    return history


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
