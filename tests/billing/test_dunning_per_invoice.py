"""Dunning per invoice (docs/rules/dunning.md): every unpaid invoice keeps its own retry
schedule, a new card retries them all at once, and what the last failed retry does
depends on what the invoice was for."""

from __future__ import annotations

from datetime import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from credits.models import CreditGrant, GrantBucket
from invoices.models import AccountBalanceEntry, Charge, DocumentType, Invoice, InvoiceStatus
from invoices.selectors import account_balance_cents
from subscriptions.models import EventKind, Subscription, SubscriptionEvent
from teams.models import Seat, SeatStatus
from tests.factories import VISA_DECLINED, subscribe
from tests.subscriptions.conftest import at, save_card
from tests.teams.conftest import join, paris
from workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db


def tick(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        call_command("billing_tick", "--at", moment.isoformat(), stdout=StringIO())


def _sub(workspace) -> Subscription:
    return Subscription.objects.select_related("plan", "price").get(workspace=workspace)


def _renewal(workspace) -> Invoice:
    return Invoice.objects.get(
        workspace=workspace, billing_reason="subscription_cycle", source__startswith="renewal:"
    )


def _seat_invoice(workspace) -> Invoice:
    return Invoice.objects.get(workspace=workspace, source__startswith="seats:")


def _keys(workspace) -> list[str]:
    return list(
        Charge.objects.filter(workspace=workspace).order_by("id").values_list("idempotency_key", flat=True)
    )


@pytest.fixture
def renewal_and_seat_failed(billed_workspace, owner):
    """Business monthly from 1 March; the 1 April renewal is declined, a member added on
    2 April, that seat's invoice declined on 3 April."""
    subscribe(billed_workspace, owner, "business", now=at(2026, 3, 1, 9))
    save_card(billed_workspace, owner, VISA_DECLINED, now=at(2026, 3, 20))
    tick(at(2026, 4, 1, 0, 5))
    with time_machine.travel(at(2026, 4, 2, 10), tick=False):
        join(billed_workspace, owner, "dana@acme.test")
    tick(at(2026, 4, 2, 0, 5))
    tick(at(2026, 4, 3, 0, 5))
    return billed_workspace


def test_a_failed_seat_invoice_keeps_the_renewal_in_dunning_with_its_own_schedule(
    renewal_and_seat_failed,
):
    workspace = renewal_and_seat_failed
    renewal, seat_invoice = _renewal(workspace), _seat_invoice(workspace)

    assert _sub(workspace).status == "past_due"
    # The renewal: first failure 1 April 00:05, retried on day 1; next on day 3.
    assert (renewal.status, renewal.attempt_count) == (InvoiceStatus.FAILED, 2)
    assert renewal.past_due_since == at(2026, 4, 1, 0, 5)
    assert renewal.next_payment_attempt_at == at(2026, 4, 4, 0, 5)
    # The seat invoice: its own first failure on 3 April; its day 1 is 4 April.
    assert (seat_invoice.status, seat_invoice.attempt_count) == (InvoiceStatus.FAILED, 1)
    assert seat_invoice.past_due_since == at(2026, 4, 3, 0, 5)
    assert seat_invoice.next_payment_attempt_at == at(2026, 4, 4, 0, 5)


def test_a_new_card_pays_every_unpaid_invoice_at_once_and_the_subscription_is_active(
    renewal_and_seat_failed, owner
):
    workspace = renewal_and_seat_failed
    renewal, seat_invoice = _renewal(workspace), _seat_invoice(workspace)

    save_card(workspace, owner, now=at(2026, 4, 3, 12))

    renewal.refresh_from_db()
    seat_invoice.refresh_from_db()
    assert (renewal.status, renewal.paid_at) == (InvoiceStatus.PAID, at(2026, 4, 3, 12))
    assert (seat_invoice.status, seat_invoice.paid_at) == (InvoiceStatus.PAID, at(2026, 4, 3, 12))
    assert renewal.next_payment_attempt_at is None
    assert seat_invoice.next_payment_attempt_at is None
    assert _sub(workspace).status == "active"
    # Each charged as its next attempt, with that attempt's own key.
    assert _keys(workspace)[-2:] == [
        f"invoice:{renewal.pk}:attempt:3",
        f"invoice:{seat_invoice.pk}:attempt:2",
    ]
    charges_before = len(_keys(workspace))
    tick(at(2026, 4, 4, 0, 5))
    assert len(_keys(workspace)) == charges_before


def test_never_paid_the_renewal_expires_the_subscription_on_day_7_with_credit_notes(
    renewal_and_seat_failed,
):
    workspace = renewal_and_seat_failed
    renewal, seat_invoice = _renewal(workspace), _seat_invoice(workspace)
    for day in range(4, 8):
        tick(at(2026, 4, day, 0, 5))
        assert _sub(workspace).status == "past_due"

    tick(at(2026, 4, 8, 0, 5))

    subscription = _sub(workspace)
    assert subscription.plan.is_free
    expired = SubscriptionEvent.objects.get(workspace=workspace, kind=EventKind.EXPIRED)
    assert expired.created_at == at(2026, 4, 8, 0, 5)
    renewal.refresh_from_db()
    seat_invoice.refresh_from_db()
    assert renewal.status == InvoiceStatus.VOID
    assert renewal.attempt_count == 5
    assert seat_invoice.status == InvoiceStatus.VOID
    # Each is cancelled by a credit note of its whole amount, numbered in its own series;
    # the numbers of the cancelled invoices stay used.
    notes = list(
        Invoice.objects.filter(workspace=workspace, document_type=DocumentType.CREDIT_NOTE).order_by("id")
    )
    assert [(n.number, n.corrects_id) for n in notes] == [
        ("AV-2026-000001", renewal.pk),
        ("AV-2026-000002", seat_invoice.pk),
    ]
    for note, cancelled in zip(notes, (renewal, seat_invoice), strict=True):
        assert note.status == InvoiceStatus.ISSUED  # cancels the unpaid invoice: nothing to the balance
        assert (note.subtotal_cents, note.vat_cents, note.total_cents) == (
            -cancelled.subtotal_cents,
            -cancelled.vat_cents,
            -cancelled.total_cents,
        )
    # Nothing was paid, so nothing is owed back: the account balance stays empty.
    assert account_balance_cents(workspace) == 0
    assert not AccountBalanceEntry.objects.filter(workspace=workspace).exists()
    # No retry after the end: the seat invoice's day 7 (10 April) charges nothing.
    charges = len(_keys(workspace))
    tick(at(2026, 4, 10, 0, 5))
    assert len(_keys(workspace)) == charges


def test_the_renewal_figures_of_the_cancellation(renewal_and_seat_failed):
    workspace = renewal_and_seat_failed
    for day in range(4, 9):
        tick(at(2026, 4, day, 0, 5))
    renewal = _renewal(workspace)
    note = Invoice.objects.get(corrects=renewal)
    # Business, one licence: 20,00 € HT + 20 % VAT = 24,00 €.
    assert (renewal.subtotal_cents, renewal.vat_cents, renewal.total_cents) == (2_000, 400, 2_400)
    assert (note.subtotal_cents, note.vat_cents, note.total_cents) == (-2_000, -400, -2_400)


# --- a seat charge never paid does not cost the prepaid plan ---------------------------------


@pytest.fixture
def pro_annual_with_a_failed_seat(billed_workspace, owner):
    """Pro, annual, paid on 1 January; three members join on 1 March (the first two take
    the included seats); the card is declined from 28 February."""
    subscribe(billed_workspace, owner, "pro", "year", now=at(2026, 1, 1, 9))
    save_card(billed_workspace, owner, VISA_DECLINED, now=at(2026, 2, 28))
    with time_machine.travel(at(2026, 3, 1, 10), tick=False):
        for email in ("a@team.test", "b@team.test", "c@team.test"):
            join(billed_workspace, owner, email)
    tick(at(2026, 3, 2, 0, 5))
    return billed_workspace


def test_a_seat_invoice_never_paid_releases_its_seat_and_the_plan_goes_on(
    pro_annual_with_a_failed_seat,
):
    workspace = pro_annual_with_a_failed_seat
    seat_invoice = _seat_invoice(workspace)
    # 89,99 € a year HT for 10 of 12 months: 74,99 € HT, 15,00 € VAT, 89,99 €.
    assert (seat_invoice.subtotal_cents, seat_invoice.vat_cents, seat_invoice.total_cents) == (
        7_499,
        1_500,
        8_999,
    )
    assert seat_invoice.status == InvoiceStatus.FAILED
    allowance_before = list(
        CreditGrant.objects.filter(workspace=workspace, bucket=GrantBucket.PLAN_ALLOWANCE).values_list(
            "id", "amount", "remaining"
        )
    )
    for day in (3, 5, 7):
        tick(at(2026, 3, day, 0, 5))
        assert Seat.objects.get(workspace=workspace, user_email="c@team.test").status == SeatStatus.ACTIVE

    tick(at(2026, 3, 9, 0, 5))

    subscription = _sub(workspace)
    assert (subscription.plan.code, subscription.price.interval, subscription.status) == (
        "pro",
        "year",
        "active",
    )
    assert subscription.current_period_end == paris(2027, 1, 1)  # midnight in the billing time zone
    seat = Seat.objects.get(workspace=workspace, user_email="c@team.test")
    assert (seat.status, seat.removed_at, seat.membership_id) == (
        SeatStatus.REMOVED,
        at(2026, 3, 9, 0, 5),
        None,
    )
    # The member stays in the workspace, without a licence.
    member = Membership.objects.get(workspace=workspace, user__email="c@team.test")
    assert member.role == Role.GUEST
    seat_invoice.refresh_from_db()
    assert seat_invoice.status == InvoiceStatus.VOID
    note = Invoice.objects.get(corrects=seat_invoice)
    assert (note.number, note.total_cents, note.vat_cents) == ("AV-2026-000001", -8_999, -1_500)
    assert account_balance_cents(workspace) == 0
    # The year's allowance is untouched: the plan was paid for.
    assert (
        list(
            CreditGrant.objects.filter(workspace=workspace, bucket=GrantBucket.PLAN_ALLOWANCE).values_list(
                "id", "amount", "remaining"
            )
        )
        == allowance_before
    )
    # Nothing retries any more, and the next seat sweeps charge nothing for that seat.
    charges = len(_keys(workspace))
    tick(at(2026, 3, 11, 0, 5))
    tick(at(2026, 4, 2, 0, 5))
    assert len(_keys(workspace)) == charges
