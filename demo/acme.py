"""Acme's billing demo data (docs/demo.md): Team Starter monthly (159,00 €/month)
with 5 extra seats, a Visa 4242 on file and a year of paid invoices.

Everything goes through the real services with explicit ``now``s, so the invoices,
numbers, charges and audit events are exactly what a year of use would have produced.
Safe to run again: an existing subscription is kept, and only renewals that have fallen
due since are added.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from billing.services import (
    apply_renew,
    apply_subscribe,
    preview_subscribe,
    subscription_start_free,
)
from domain.calendar import midnight
from domain.periods import Interval, add_interval
from gateways.local.cards import save_test_card
from gateways.local.gateway import TEST_CARDS
from subscriptions.models import PaymentMethod, Price, Subscription, SubscriptionStatus
from workspaces.models import Membership, Role, Workspace

ACME_PLAN = "team-starter"
ACME_EXTRA_SEATS = 5
DEMO_CARD = "4242424242424242"
#: The time of day the demo subscription was bought, a year ago.
_BOUGHT_AT = timedelta(hours=9, minutes=30)


def seed_acme_billing(acme: Workspace, *, now: datetime | None = None) -> Subscription:
    now = now or timezone.now()
    owner = Membership.objects.get(workspace=acme, role=Role.OWNER)
    today = now.date()
    # A year ago, plus a day: 12 monthly periods, the last one containing today.
    started = add_interval(today, Interval.MONTH, anchor_day=today.day, count=-12) + timedelta(days=1)
    bought_at = midnight(started) + _BOUGHT_AT
    subscription_start_free(workspace=acme, now=bought_at)
    if not PaymentMethod.objects.filter(workspace=acme, is_default=True).exists():
        assert DEMO_CARD in TEST_CARDS
        save_test_card(
            workspace=acme,
            actor=owner,
            number=DEMO_CARD,
            exp_month=12,
            exp_year=today.year + 3,
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
    subscription.refresh_from_db()
    # Each renewal as the sweep would have run it, a few minutes after the period ended.
    while (
        subscription.status == SubscriptionStatus.ACTIVE
        and subscription.auto_renew
        and subscription.current_period_end <= now
    ):
        apply_renew(workspace=acme, now=subscription.current_period_end + timedelta(minutes=5))
        subscription.refresh_from_db()
    return subscription
