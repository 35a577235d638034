"""Acme's billing demo data: Team Starter monthly, 5 extra seats, a card, a year of invoices."""

import pytest

from demo.acme import seed_acme_billing
from invoices.models import Charge, Invoice, InvoiceStatus
from subscriptions.models import PaymentMethod, Subscription
from tests.subscriptions.conftest import PARIS, at
from workspaces import demo


@pytest.mark.django_db
def test_acme_gets_team_starter_a_card_and_a_year_of_paid_invoices():
    acme = demo.seed_acme()
    now = at(2026, 11, 23, 12)

    subscription = seed_acme_billing(acme, now=now)

    assert subscription.plan.code == "team-starter"
    assert subscription.price.interval == "month"
    assert subscription.price.base_amount == 15_900
    assert subscription.extra_seats == 5
    assert subscription.status == "active"
    assert subscription.current_period_start <= now < subscription.current_period_end
    card = PaymentMethod.objects.get(workspace=acme, is_default=True)
    assert (card.brand, card.last4) == ("Visa", "4242")
    invoices = Invoice.objects.filter(workspace=acme).order_by("issued_at")
    # A year of monthly invoices, and the extra credit pack bought twelve days ago.
    assert invoices.count() == 13
    assert set(invoices.values_list("status", flat=True)) == {InvoiceStatus.PAID}
    # Invoice dates are the seller's calendar dates, in Paris.
    assert invoices.first().issued_at.astimezone(PARIS).date().isoformat() == "2025-11-24"
    assert invoices[11].issued_at.astimezone(PARIS).date().isoformat() == "2026-10-24"
    pack = invoices.last()
    assert (pack.issued_at.astimezone(PARIS).date().isoformat(), pack.total_cents) == ("2026-11-11", 600)
    assert Charge.objects.filter(workspace=acme, status="succeeded").count() == 13

    # Idempotent: a second run adds nothing.
    again = seed_acme_billing(acme, now=now)
    assert again.pk == subscription.pk
    assert Invoice.objects.filter(workspace=acme).count() == 13
    assert PaymentMethod.objects.filter(workspace=acme).count() == 1
    assert Subscription.objects.filter(workspace=acme).count() == 1


@pytest.mark.django_db
def test_seed_demo_command_runs_twice():
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    acme = Subscription.objects.get(workspace__name="Acme")
    assert acme.plan.code == "team-starter"
    assert Invoice.objects.filter(workspace=acme.workspace).count() == 13


@pytest.mark.django_db
def test_seed_demo_runs_again_on_a_later_day_without_changing_the_usage(settings, tmp_path):
    """`make run` seeds at every start: the next day's run must not fail on the 30 days of
    usage the first run wrote (their window has moved), nor add any."""
    from io import StringIO

    import time_machine
    from django.core.management import call_command

    from credits.models import LedgerEntry

    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(at(2026, 11, 23, 12), tick=False):
        call_command("seed_demo", stdout=StringIO())
    usage = set(
        LedgerEntry.objects.filter(idempotency_key__startswith="demo:usage:").values_list(
            "idempotency_key", "amount"
        )
    )
    assert usage

    with time_machine.travel(at(2026, 11, 30, 12), tick=False):
        call_command("seed_demo", stdout=StringIO())

    assert (
        set(
            LedgerEntry.objects.filter(idempotency_key__startswith="demo:usage:").values_list(
                "idempotency_key", "amount"
            )
        )
        == usage
    )
