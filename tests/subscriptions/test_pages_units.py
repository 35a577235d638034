"""The pieces under the subscription pages: template filters and the one-query reads that
must agree with the other apps' selectors (preview lines' words: tests/invoices/test_line_words.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone, translation

from billing.pages import overview_selectors, subscription_selectors
from credits.selectors import credit_summary
from subscriptions import selectors as billing_selectors
from subscriptions.models import Subscription, SubscriptionStatus
from teams.selectors import seat_summary
from tests.factories import subscribe
from tests.subscriptions.test_pages_support import (
    NOW,
    START,
    add_team,
    buy_credits,
    gift_credits,
    save_card,
    seed_001_workspace,
)

NNBSP, NBSP = "\u202f", "\u00a0"


def render(source: str, **context) -> str:
    return Template("{% load formatting %}" + source).render(Context(context))


# --- template filters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", f"159,00{NBSP}€ 3{NNBSP}000{NNBSP}000 22,6{NBSP}M 80,61{NBSP}% 2 oct. 2025"),
     ("en", "€159.00 3,000,000 22.6M 80.61% Oct 2, 2025")],
)  # fmt: skip
def test_filters_follow_the_active_language(language, expected):
    with translation.override(language):
        rendered = render(
            "{{ cents|money:'EUR' }} {{ n|number }} {{ big|compact }} {{ part|percent:whole }} {{ day|locale_date }}",
            cents=15_900,
            n=3_000_000,
            big=22_600_000,
            part=22_570_000,
            whole=28_000_000,
            day=date(2025, 10, 2),
        )
    assert rendered == expected


def test_dates_are_shown_in_the_user_time_zone():
    # 1 Nov 2025 23:30 UTC is already 2 Nov in Paris.
    moment = datetime(2025, 11, 1, 23, 30, tzinfo=UTC)
    with translation.override("fr"), timezone.override("Europe/Paris"):
        assert render("{{ m|locale_date }} {{ m|locale_date:'long' }} {{ m|day_month }}", m=moment) == (
            "2 nov. 2025 2 novembre 2025 2 nov."
        )


def test_missing_values_render_nothing():
    with translation.override("fr"):
        assert render("[{{ x|money:'EUR' }}|{{ x|number }}|{{ x|locale_date }}|{{ x|percent:0 }}]") == (
            f"[|||0,00{NBSP}%]"
        )


# --- one-query reads agree with the apps' selectors ---------------------------------------------


@pytest.mark.django_db
def test_credits_card_agrees_with_the_credit_summary(workspace, other_workspace):
    seed_001_workspace(workspace)
    buy_credits(workspace, credits=3_000_000, paid_cents=1_500, when=START, source="invoice:a")
    gift_credits(workspace, credits=500_000, when=START)
    save_card(other_workspace)
    subscribe(other_workspace, plan="business", now=START)
    buy_credits(other_workspace, credits=9_000_000, paid_cents=4_500, when=START, source="invoice:b")
    for moment in (NOW, NOW + timedelta(days=25)):  # inside the period, then after its end
        summary = credit_summary(workspace, now=moment)
        card, extra = overview_selectors.credits_card(workspace, now=moment)
        assert card is not None
        assert (card.remaining, card.total, card.period_end) == (
            summary.allowance_remaining,
            summary.allowance,
            summary.period_end,
        )
        assert extra == card.extra == summary.buckets["purchased"] + summary.buckets["free"] == 3_500_000
    assert overview_selectors.credits_card(workspace, now=NOW)[0].remaining == 22_570_000


@pytest.mark.django_db
def test_credits_card_is_hidden_on_free(workspace):
    from billing import services

    assert billing_selectors.free_plan().show_credit_balance is False
    services.subscription_start_free(workspace=workspace, now=NOW)
    card, extra = overview_selectors.credits_card(workspace, now=NOW)
    assert card is None
    assert extra == 0


@pytest.mark.django_db
def test_load_subscription_agrees_with_the_selectors(workspace, other_workspace):
    with time_machine.travel(NOW, tick=False):
        seed_001_workspace(workspace)
        add_team(other_workspace)
        loaded = subscription_selectors.load_subscription(workspace)
        expected = billing_selectors.subscription_of(workspace)
        assert loaded.subscription.pk == expected.pk
        assert loaded.subscription.plan == expected.plan
        assert loaded.subscription.price == expected.price
        assert loaded.subscription.extra_seats == 5
        seats = seat_summary(workspace)
        assert loaded.licensed == seats.licensed == 5
        assert loaded.paid_seats == seats.paid
        annual = billing_selectors.annual_price_for(expected.plan, "EUR")
        assert loaded.annual_price is not None
        assert (loaded.annual_price.pk, loaded.annual_price.base_amount, loaded.annual_price.seat_amount) == (
            annual.pk,
            annual.base_amount,
            annual.seat_amount,
        )
        assert loaded.has_addons is False
        # No subscription row yet: the Free plan, counted the same way.
        free = subscription_selectors.load_subscription(other_workspace)
        assert free.subscription.plan.is_free
        assert free.licensed == seat_summary(other_workspace).licensed


@pytest.mark.django_db
def test_trial_days_left_round_up(workspace):
    with time_machine.travel(NOW, tick=False):
        add_team(workspace)
        subscribe(workspace, plan="team-starter", now=START, trial=True)
        subscription = Subscription.objects.select_related("plan", "price").get(workspace=workspace)
        assert subscription.status == SubscriptionStatus.TRIALING
        card = subscription_selectors.subscription_card(
            workspace, subscription, coterm_seats=2, addons=[], card=None, now=NOW
        )
        assert card.trial_days_left == 4  # 3 days and 14 hours to 16 Oct 00:00 UTC
        late = subscription_selectors.subscription_card(
            workspace, subscription, coterm_seats=2, addons=[], card=None, now=subscription.trial_end
        )
        assert late.trial_days_left == 0
