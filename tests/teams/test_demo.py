"""The Studio demo workspace: Pro annual, a dozen members on mixed weekly, monthly and
annual seats, billed through the real services; idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from demo.studio import seed_studio
from invoices.models import Invoice, InvoiceStatus
from teams import selectors
from teams.models import ChargeKind, ChargeStatus, Seat, SeatCharge, SeatStatus
from workspaces.models import Membership

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_studio_is_pro_annual_with_mixed_seats_and_is_idempotent():
    studio = seed_studio(now=NOW)

    assert studio.subscription.plan.code == "pro"
    assert studio.subscription.price.interval == "year"
    roles = dict(Membership.objects.filter(workspace=studio).values_list("user__email", "role"))
    assert roles["owner@demo.test"] == "owner"
    assert (roles["admin@demo.test"], roles["member@demo.test"], roles["guest@demo.test"]) == (
        "admin",
        "member",
        "guest",
    )
    assert len(roles) == 13
    seats = dict(
        Seat.objects.filter(workspace=studio, status=SeatStatus.ACTIVE).values_list("user_email", "interval")
    )
    assert seats == {
        **{f"seat{n}@demo.test": "week" for n in (1, 2, 3)},
        **{f"seat{n}@demo.test": "month" for n in (4, 5, 6)},
        **{f"seat{n}@demo.test": "year" for n in (7, 8, 9)},
    }
    summary = selectors.seat_summary(studio)
    assert (summary.licensed, summary.included, summary.paid, summary.capacity) == (12, 3, 9, 12)
    assert selectors.coterm_paid_seat_count(studio) == 3

    # The day after they joined, the nine seats were invoiced on one invoice; the weekly
    # seats renewed a week later.
    assert not SeatCharge.objects.filter(workspace=studio, status=ChargeStatus.PENDING).exists()
    joined = Invoice.objects.get(workspace=studio, source=f"seats:{studio.pk}:2026-11-13")
    assert joined.lines.count() == 9
    assert SeatCharge.objects.filter(workspace=studio, kind=ChargeKind.RENEWAL).count() == 3
    assert set(Invoice.objects.filter(workspace=studio).values_list("status", flat=True)) == {
        InvoiceStatus.PAID
    }

    invoices = Invoice.objects.filter(workspace=studio).count()
    again = seed_studio(now=NOW)
    assert again.pk == studio.pk
    assert Invoice.objects.filter(workspace=studio).count() == invoices
    assert Seat.objects.filter(workspace=studio).count() == 9
    assert Membership.objects.filter(workspace=studio).count() == 13
