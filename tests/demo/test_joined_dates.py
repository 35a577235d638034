"""The demo's members joined at plausible dates in the past (docs/demo.md), in step with the
history the demo plays: Acme was opened the morning its subscription was bought a year ago,
its members arrived over the following weeks on its included seats, and Studio's owner
opened it the day it was bought."""

from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from credits.models import CreditGrant, GrantBucket, LedgerEntry
from demo.acme import acme_joined
from demo.studio import studio_history
from invoices.models import Invoice, InvoiceStatus
from subscriptions.models import SubscriptionEvent
from teams.models import Seat
from tests.subscriptions.conftest import PARIS, at
from workspaces import demo
from workspaces.models import Membership, Role, Workspace

NOW = at(2026, 11, 23, 12)
TODAY = date(2026, 11, 23)


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=StringIO())


def _joined(workspace: Workspace) -> dict[str, object]:
    return dict(Membership.objects.filter(workspace=workspace).values_list("user__email", "created_at"))


def _day(instant) -> date:
    return instant.astimezone(PARIS).date()


@pytest.mark.django_db
def test_acme_members_joined_on_different_days_before_today(seeded):
    acme = Workspace.objects.get(name="Acme")

    joined = _joined(acme)

    assert set(joined) == {
        "owner@demo.test",
        "admin@demo.test",
        "billing@demo.test",
        "member@demo.test",
        "guest@demo.test",
    }
    assert all(_day(instant) < TODAY for instant in joined.values())
    assert len({_day(instant) for instant in joined.values()}) == len(joined)


@pytest.mark.django_db
def test_acme_was_opened_by_its_owner_the_morning_its_subscription_was_bought_a_year_ago(seeded):
    acme = Workspace.objects.get(name="Acme")
    joined = _joined(acme)
    bought = SubscriptionEvent.objects.filter(workspace=acme).order_by("created_at").first().created_at
    first_invoice = Invoice.objects.filter(workspace=acme).order_by("issued_at").first()

    assert _day(bought) == date(2025, 11, 24)
    assert acme.created_at == joined["owner@demo.test"] <= bought <= first_invoice.issued_at
    assert _day(acme.created_at) == _day(bought)
    # The others arrived after the purchase, the owner first and the guest last.
    others = [
        joined[email]
        for email in ("admin@demo.test", "billing@demo.test", "member@demo.test", "guest@demo.test")
    ]
    assert all(bought < instant for instant in others)
    assert others == sorted(others)


@pytest.mark.django_db
def test_acme_members_arrived_within_the_seats_already_paid_for_and_before_they_used_credits(seeded):
    acme = Workspace.objects.get(name="Acme")
    joined = _joined(acme)

    # Four licences on Team Starter's 5 included seats (plus 5 extra): no paid seat, no seat
    # charge; the year's invoices are the 12 subscription invoices and the credit pack's.
    assert not Seat.objects.filter(workspace=acme).exists()
    reasons = list(Invoice.objects.filter(workspace=acme).values_list("billing_reason", flat=True))
    assert len(reasons) == 13
    assert sorted(set(reasons)) == ["customization", "subscription_create", "subscription_cycle"]
    assert reasons.count("customization") == 1
    first_use = LedgerEntry.objects.filter(workspace=acme, kind="consume").order_by("created_at").first()
    assert joined["member@demo.test"] < first_use.created_at


@pytest.mark.django_db
def test_studio_was_opened_by_its_owner_on_the_day_it_was_bought(seeded):
    studio = Workspace.objects.get(name="Studio")
    joined = _joined(studio)

    assert _day(studio.created_at) == date(2026, 1, 1)
    assert studio.created_at == joined["owner@demo.test"]
    assert all(_day(instant) < TODAY for instant in joined.values())
    assert min(joined.values()) == joined["owner@demo.test"]


@pytest.mark.django_db
def test_seeding_the_workspaces_again_later_keeps_the_dates_members_joined(seeded):
    before = dict(Membership.objects.values_list("pk", "created_at"))
    opened = dict(Workspace.objects.values_list("name", "created_at"))
    later = at(2026, 12, 30, 12)

    demo.seed_acme(joined=acme_joined(now=later))
    studio_history(now=later)

    assert dict(Membership.objects.values_list("pk", "created_at")) == before
    assert dict(Workspace.objects.values_list("name", "created_at")) == opened
    assert Membership.objects.get(workspace__name="Acme", role=Role.MEMBER).user.email == "member@demo.test"


@pytest.mark.django_db
def test_without_dates_the_demo_workspaces_are_opened_now():
    with time_machine.travel(NOW, tick=False):
        acme = demo.seed_acme()

    assert acme.created_at == NOW
    assert set(_joined(acme).values()) == {NOW}


@pytest.mark.django_db
def test_the_demo_credit_pack_was_bought_and_paid_like_any_purchase(seeded):
    """The extra credit pack of Acme's history has its invoice, paid by card, and the
    purchase history shows what was paid for it, VAT included (docs/demo.md)."""
    acme = Workspace.objects.get(name="Acme")
    (grant,) = CreditGrant.objects.filter(workspace=acme, bucket=GrantBucket.PURCHASED)
    invoice = Invoice.objects.get(pk=int(grant.source.removeprefix("invoice:")))
    assert (invoice.billing_reason, invoice.status) == ("customization", InvoiceStatus.PAID)
    # 1 000 000 credits for 5,00 € HT: 6,00 € with 20 % VAT.
    assert (grant.amount, grant.amount_paid_cents, invoice.total_cents) == (1_000_000, 600, 600)
