"""Extending a running trial (docs/rules/lifecycle.md#extending-a-trial): the end, the
period, the co-termed seats and the anchor day move; nothing is charged until the new end;
the credit period follows the renewal day without granting anything; the reminder comes
again before the new end."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEntry, Kind
from billing import services
from billing.sweeps import run_billing_sweeps
from credits import selectors as credit_selectors
from credits import services as credit_services
from credits.models import CreditGrant, GrantBucket
from invoices.models import Invoice, InvoiceStatus
from subscriptions import errors
from subscriptions.models import EventKind, SubscriptionEvent, SubscriptionStatus
from teams.models import Seat, SeatStatus
from tests.factories import subscribe
from tests.subscriptions.conftest import APRIL_1, _charges, _sub, add_members, at, db_state, paris, save_card

pytestmark = pytest.mark.django_db

APRIL_10 = at(2026, 4, 10, 9)


@pytest.fixture
def trial(billed_workspace, owner):
    """Business trial from 1 April (14 days, ends 15 April in Paris) for the owner and one
    member: two co-termed seats, an allowance of 2 × 50 credits, 30 of them used."""
    [member] = add_members(billed_workspace, 1)
    subscribe(billed_workspace, owner, "business", now=APRIL_1, trial=True)
    credit_services.credits_consume(
        workspace=billed_workspace, actor=member, action="summarize", quantity=30,
        idempotency_key="before-extension", now=at(2026, 4, 2),
    )  # fmt: skip
    return billed_workspace


def _extend(workspace, days, now=APRIL_10, actor=None):
    preview = services.preview_extend_trial(workspace=workspace, days=days, now=now)
    return preview, services.apply_extend_trial(
        workspace=workspace, days=days, preview=preview, actor=actor, now=now
    )


def test_extending_moves_the_end_the_period_the_seats_and_the_anchor_and_charges_nothing(trial, owner):
    first_charge = services.preview_extend_trial(workspace=trial, days=1, now=APRIL_10).next_renewal_cents
    before_events = SubscriptionEvent.objects.filter(workspace=trial).count()

    preview, result = _extend(trial, 7, actor=owner)

    subscription = _sub(trial)
    assert subscription.status == SubscriptionStatus.TRIALING
    assert subscription.trial_end == subscription.current_period_end == paris(2026, 4, 22)
    assert subscription.billing_anchor_day == 22
    assert (preview.total_due_now_cents, result.invoice) == (0, None)
    assert (preview.next_renewal_at, preview.next_renewal_cents) == (paris(2026, 4, 22), first_charge)
    assert first_charge == 4_800  # two Business seats, 2 × 20,00 € + 20 % VAT
    seats = Seat.objects.filter(workspace=trial, status=SeatStatus.ACTIVE)
    assert [(s.coterm, s.period_end) for s in seats] == [(True, paris(2026, 4, 22))] * 2
    assert _charges(trial) == []
    assert not Invoice.objects.filter(workspace=trial).exists()
    [event] = SubscriptionEvent.objects.filter(workspace=trial).order_by("-id")[:1]
    assert event.kind == EventKind.TRIAL_EXTENDED
    assert SubscriptionEvent.objects.filter(workspace=trial).count() == before_events + 1
    [entry] = AuditEntry.objects.filter(workspace=trial, kind=Kind.TRIAL_EXTENDED)
    assert entry.actor_id == owner.user_id
    assert entry.before["trial_end"].startswith("2026-04-14T22:00:00")  # 15 April, Paris midnight
    assert entry.after["trial_end"].startswith("2026-04-21T22:00:00")


def test_the_credit_period_follows_the_renewal_day_and_what_was_used_still_counts(trial, owner):
    summary = credit_selectors.credit_summary(trial, now=APRIL_10)
    assert (summary.period_start, summary.period_end, summary.balance) == (
        dt.date(2026, 3, 15), dt.date(2026, 4, 15), 70,
    )  # fmt: skip

    _extend(trial, 7)
    _extend(trial, 7, now=at(2026, 4, 11))  # twice: still nothing granted

    summary = credit_selectors.credit_summary(trial, now=at(2026, 4, 16))
    assert (summary.period_start, summary.period_end) == (dt.date(2026, 3, 29), dt.date(2026, 4, 29))
    assert summary.balance == 70
    [grant] = CreditGrant.objects.filter(workspace=trial, bucket=GrantBucket.PLAN_ALLOWANCE, expired_at=None)
    assert (grant.amount, grant.remaining, grant.expires_at) == (100, 70, paris(2026, 4, 29))
    # No reset on the old renewal day: the sweep of 16 April leaves the allowance alone.
    run_billing_sweeps(now=at(2026, 4, 16, 1))
    credit_services.allowance_ensure_current(workspace=trial, now=at(2026, 4, 16, 1))
    assert credit_selectors.credit_summary(trial, now=at(2026, 4, 16, 1)).balance == 70


def test_nothing_is_charged_at_the_old_end_and_the_first_period_at_the_new_one(trial, owner):
    save_card(trial, owner, now=APRIL_10)
    _extend(trial, 7)

    run_billing_sweeps(now=at(2026, 4, 15, 12), charge_inline=True)
    assert _sub(trial).status == SubscriptionStatus.TRIALING
    assert _charges(trial) == []

    run_billing_sweeps(now=at(2026, 4, 22, 1), charge_inline=True)
    subscription = _sub(trial)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert (subscription.current_period_start, subscription.current_period_end) == (
        paris(2026, 4, 22), paris(2026, 5, 22),
    )  # fmt: skip
    [invoice] = Invoice.objects.filter(workspace=trial)
    assert (invoice.status, invoice.amount_due_cents) == (InvoiceStatus.PAID, 4_800)


def test_the_reminder_comes_again_before_the_new_end(trial, owner, mailoutbox):
    run_billing_sweeps(now=at(2026, 4, 12, 9))
    assert _sub(trial).trial_reminder_sent_at is not None
    reminders = len(mailoutbox)

    _extend(trial, 7, now=at(2026, 4, 13, 9))
    assert _sub(trial).trial_reminder_sent_at is None
    run_billing_sweeps(now=at(2026, 4, 17, 9))  # more than 3 days before 22 April: not yet
    assert len(mailoutbox) == reminders
    run_billing_sweeps(now=at(2026, 4, 19, 9))
    assert len(mailoutbox) == reminders + 1
    assert "22 avril 2026" in mailoutbox[-1].body


@pytest.mark.parametrize("days", [0, -3, 91, "7", 7.0, None])
def test_a_bad_number_of_days_is_refused_and_changes_nothing(trial, days):
    before = db_state(trial)
    with pytest.raises(errors.TrialExtensionInvalid):
        services.preview_extend_trial(workspace=trial, days=days, now=APRIL_10)
    with pytest.raises(errors.TrialExtensionInvalid):
        services.apply_extend_trial(workspace=trial, days=days, preview="x", now=APRIL_10)
    assert db_state(trial) == before


def test_only_a_running_trial_is_extended(billed_workspace, owner):
    subscribe(billed_workspace, owner, "business", now=APRIL_1)
    before = db_state(billed_workspace)
    with pytest.raises(errors.NotTrialing):
        services.preview_extend_trial(workspace=billed_workspace, days=7, now=APRIL_10)
    assert db_state(billed_workspace) == before


def test_a_trial_past_its_end_is_not_extended(trial):
    with pytest.raises(errors.NotTrialing):
        services.preview_extend_trial(workspace=trial, days=7, now=at(2026, 4, 15, 9))


def test_a_stale_confirmation_is_refused(trial):
    preview = services.preview_extend_trial(workspace=trial, days=7, now=APRIL_10)
    services.apply_extend_trial(workspace=trial, days=7, preview=preview, now=APRIL_10)
    before = db_state(trial)
    with pytest.raises(errors.StalePreview):
        services.apply_extend_trial(workspace=trial, days=7, preview=preview.fingerprint, now=APRIL_10)
    assert db_state(trial) == before
