"""The billing sweep over simulated time (docs/rules/lifecycle.md#renewal, docs/rules/dunning.md): renewals, expirations,
trials and dunning, idempotent and safe late."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing import services
from billing.sweeps import run_billing_sweeps
from credits.models import CreditGrant, GrantBucket
from invoices.models import Charge, Invoice, InvoiceStatus
from subscriptions.models import CancelReason, EventKind, Subscription, SubscriptionEvent
from tests.factories import VISA_DECLINED, MembershipFactory, UserFactory, price_id, subscribe
from tests.subscriptions.conftest import PARIS, at, db_state, paris, save_card
from workspaces.models import Role

ZERO = {"changes_lapsed": 0, "expired": 0, "trials_ended": 0, "renewed": 0, "charges_queued": 0, "dunning_retries": 0,
        "dunning_ended": 0,
        "trial_reminders": 0, "card_expiry_notices": 0}  # fmt: skip


def sweep_at(moment: datetime) -> dict[str, int]:
    with time_machine.travel(moment, tick=False):
        return run_billing_sweeps(now=timezone.now())


def _sub(workspace) -> Subscription:
    return Subscription.objects.select_related("plan", "price").get(workspace=workspace)


def _number(invoice: Invoice) -> tuple[int, int]:
    assert invoice.number is not None
    _prefix, year, sequence = invoice.number.split("-")
    return int(year), int(sequence)


def test_a_year_of_monthly_renewals_gives_12_paid_invoices_numbered_without_gaps(
    billed_workspace, owner, other_workspace
):
    save_card(billed_workspace, owner)
    other_owner = other_workspace.memberships.get(role=Role.OWNER)
    services.subscription_start_free(workspace=other_workspace, now=at(2026, 1, 1))
    save_card(other_workspace, other_owner)
    with time_machine.travel(at(2026, 1, 1, 10), tick=False):
        subscribe(billed_workspace, owner, "team-starter", extra_seats=5, now=timezone.now())
    with time_machine.travel(at(2026, 1, 15, 10), tick=False):
        subscribe(other_workspace, other_owner, "business", now=timezone.now())

    renewals_seen = 0
    moment = at(2026, 1, 1, 10)
    while moment < at(2027, 1, 2):
        moment += timedelta(days=1)
        renewals_seen += sweep_at(moment)["renewed"]

    renewals = Invoice.objects.filter(workspace=billed_workspace, billing_reason="subscription_cycle")
    assert renewals.count() == 12
    assert set(renewals.values_list("status", flat=True)) == {InvoiceStatus.PAID}
    assert set(renewals.values_list("total_cents", flat=True)) == {28_080}  # (159 + 5 × 15) € + 20 % VAT
    assert [i.issued_at.date().isoformat() for i in renewals.order_by("issued_at")][::11] == [
        "2026-02-01",
        "2027-01-01",
    ]
    assert _sub(billed_workspace).current_period_end == paris(2027, 2, 1)
    assert renewals_seen == 12 + 11  # the other tenant renews on the 15th, 11 times up to 2 January
    # Gap-free numbering per calendar year, across both tenants.
    by_year: dict[int, list[int]] = {}
    for invoice in Invoice.objects.all():
        year, sequence = _number(invoice)
        by_year.setdefault(year, []).append(sequence)
    for sequences in by_year.values():
        assert sorted(sequences) == list(range(1, len(sequences) + 1))
    # Each renewal was charged once, with its own idempotency key.
    keys = set(Charge.objects.filter(workspace=billed_workspace).values_list("idempotency_key", flat=True))
    assert {f"invoice:{pk}:attempt:1" for pk in renewals.values_list("pk", flat=True)} <= keys
    assert not Invoice.objects.filter(workspace=other_workspace, lines__subject="Team Starter")


def test_running_the_sweep_twice_does_nothing_more(billed_workspace, owner, other_billed):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))

    first = sweep_at(at(2026, 5, 1, 0, 5))
    state = db_state(billed_workspace)
    second = sweep_at(at(2026, 5, 1, 0, 10))

    assert first["renewed"] == 2  # both tenants renew on 1 May
    assert second == ZERO
    assert db_state(billed_workspace) == state


def test_a_late_sweep_catches_up_period_after_period(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))

    summary = sweep_at(at(2026, 7, 3))

    assert summary["renewed"] == 3
    invoices = Invoice.objects.filter(workspace=billed_workspace, billing_reason="subscription_cycle")
    assert sorted(
        line.period_start.astimezone(PARIS).date().isoformat() for i in invoices for line in i.lines.all()
    ) == [
        "2026-05-01",
        "2026-06-01",
        "2026-07-01",
    ]
    assert _sub(billed_workspace).current_period_end == paris(2026, 8, 1)


def test_a_downgrade_credit_is_consumed_by_the_next_renewal(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))
    now = at(2026, 4, 10, 9)
    preview = services.preview_change_plan(workspace=billed_workspace, price_id=price_id("starter"), now=now)
    services.apply_change_plan(
        workspace=billed_workspace, actor=owner, price_id=preview.params["price_id"], preview=preview, now=now
    )
    assert preview.account_credit_cents == 840  # 1 seat: 21/30 × (20 − 10) € = 7,00 € + 1,40 € VAT

    sweep_at(at(2026, 5, 1, 0, 5))

    renewal = Invoice.objects.get(workspace=billed_workspace, billing_reason="subscription_cycle")
    assert renewal.total_cents == 1_200
    assert renewal.account_credit_applied_cents == 840
    assert renewal.amount_due_cents == 360
    assert renewal.status == InvoiceStatus.PAID
    assert Charge.objects.filter(workspace=billed_workspace).latest("id").amount_cents == 360


def test_cancel_keeps_access_to_the_period_end_then_expires_to_free_keeping_purchased_credits(
    billed_workspace, owner, other_billed
):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "team-starter", now=at(2026, 4, 1, 9))
    now = at(2026, 4, 10, 9)
    preview = services.preview_customize(workspace=billed_workspace, extra_seats=0, credit_packs=2, now=now)
    services.apply_customize(
        workspace=billed_workspace, actor=owner, extra_seats=0, credit_packs=2, preview=preview, now=now
    )
    preview = services.preview_cancel(workspace=billed_workspace, reason=CancelReason.CHANGING_NEEDS, now=now)
    services.apply_cancel(
        workspace=billed_workspace, actor=owner, reason=CancelReason.CHANGING_NEEDS, preview=preview, now=now
    )
    mail.outbox.clear()

    assert sweep_at(at(2026, 4, 30, 21, 55))["expired"] == 0  # 23:55 in Paris
    assert _sub(billed_workspace).plan.code == "team-starter"  # still on the paid plan

    summary = sweep_at(at(2026, 5, 1, 0, 5))

    subscription = _sub(billed_workspace)
    assert summary["expired"] == 1
    assert subscription.plan.is_free
    assert subscription.status == "active"
    assert not Invoice.objects.filter(
        workspace=billed_workspace, billing_reason="subscription_cycle"
    ).exists()
    assert SubscriptionEvent.objects.filter(workspace=billed_workspace, kind=EventKind.EXPIRED).count() == 1
    purchased = CreditGrant.objects.get(workspace=billed_workspace, bucket=GrantBucket.PURCHASED)
    assert purchased.remaining == 2_000_000
    [email] = mail.outbox
    assert email.subject == "Votre abonnement est terminé — Acme Test"
    assert "Team Starter" in email.body
    assert owner.user.email in email.to
    # The other tenant renewed as usual.
    assert _sub(other_billed).current_period_end == paris(2026, 6, 1)


def test_reactivating_before_the_end_keeps_it_renewing(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))
    now = at(2026, 4, 10, 9)
    preview = services.preview_cancel(workspace=billed_workspace, reason=CancelReason.HARD_TO_USE, now=now)
    services.apply_cancel(
        workspace=billed_workspace, actor=owner, reason=CancelReason.HARD_TO_USE, preview=preview, now=now
    )
    preview = services.preview_reactivate(workspace=billed_workspace, now=at(2026, 4, 29))
    services.apply_reactivate(workspace=billed_workspace, actor=owner, preview=preview, now=at(2026, 4, 29))

    summary = sweep_at(at(2026, 5, 1, 0, 5))

    assert summary["expired"] == 0
    assert summary["renewed"] == 1
    subscription = _sub(billed_workspace)
    assert subscription.plan.code == "business"
    assert subscription.status == "active"
    assert subscription.current_period_end == paris(2026, 6, 1)


def test_a_declined_card_goes_past_due_then_4_retries_then_expired_with_the_emails(
    billed_workspace, owner, other_billed
):
    admin = MembershipFactory(
        workspace=billed_workspace, role=Role.ADMIN, user=UserFactory(email="admin@acme.test")
    )
    billed_workspace.billing_email = "billing@acme.test"
    billed_workspace.save()
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))
    save_card(billed_workspace, owner, VISA_DECLINED, now=at(2026, 4, 20))
    mail.outbox.clear()

    sweep_at(at(2026, 5, 1, 0, 5))

    subscription = _sub(billed_workspace)
    renewal = Invoice.objects.get(workspace=billed_workspace, billing_reason="subscription_cycle")
    assert subscription.status == "past_due"
    assert subscription.past_due_since == at(2026, 5, 1, 0, 5)
    assert renewal.status == InvoiceStatus.FAILED
    assert renewal.next_payment_attempt_at == at(2026, 5, 2, 0, 5)

    # Nothing happens before a retry is due.
    assert sweep_at(at(2026, 5, 2, 0, 0))["dunning_retries"] == 0
    for day in (2, 4, 6):
        assert sweep_at(at(2026, 5, day, 0, 5))["dunning_retries"] == 1
        assert _sub(billed_workspace).status == "past_due"
    assert sweep_at(at(2026, 5, 8, 0, 5))["dunning_retries"] == 1

    subscription = _sub(billed_workspace)
    assert subscription.plan.is_free
    assert subscription.status == "active"
    renewal.refresh_from_db()
    assert renewal.status == InvoiceStatus.VOID
    assert renewal.attempt_count == 5
    keys = list(
        Charge.objects.filter(workspace=billed_workspace, status="failed")
        .order_by("id")
        .values_list("idempotency_key", flat=True)
    )
    assert keys == [f"invoice:{renewal.pk}:attempt:{n}" for n in range(1, 6)]
    # The emails: one per failed attempt with the next date, then the expiry.
    subjects = [m.subject for m in mail.outbox]
    assert subjects == ["Échec du paiement — Acme Test"] * 4 + ["Votre abonnement est terminé — Acme Test"]
    next_dates = ["2 mai 2026", "4 mai 2026", "6 mai 2026", "8 mai 2026"]
    for message, date_text in zip(mail.outbox[:4], next_dates, strict=True):
        assert f"Nous réessaierons le {date_text}" in message.body
        assert "La carte a été refusée." in message.body
        assert sorted(message.to) == sorted([owner.user.email, admin.user.email, "billing@acme.test"])
    events = SubscriptionEvent.objects.filter(workspace=billed_workspace, kind=EventKind.PAYMENT_FAILED)
    assert events.count() == 5
    # Running the sweep again changes nothing.
    state = db_state(billed_workspace)
    assert sweep_at(at(2026, 5, 8, 0, 10)) == ZERO
    assert db_state(billed_workspace) == state


def test_a_new_card_during_dunning_pays_the_renewal_at_once(billed_workspace, owner):
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))
    save_card(billed_workspace, owner, VISA_DECLINED, now=at(2026, 4, 20))
    # The 1 May renewal is declined: the subscription is past due.
    sweep_at(at(2026, 5, 1, 0, 5))
    assert _sub(billed_workspace).status == "past_due"

    save_card(billed_workspace, owner, now=at(2026, 5, 1, 12))

    subscription = _sub(billed_workspace)
    assert (subscription.status, subscription.past_due_since) == ("active", None)
    invoice = Invoice.objects.get(workspace=billed_workspace, billing_reason="subscription_cycle")
    assert (invoice.status, invoice.paid_at) == (InvoiceStatus.PAID, at(2026, 5, 1, 12))
    assert invoice.amount_due_cents == 2_400
    assert invoice.next_payment_attempt_at is None
    # The retry that was due on day 1 has nothing left to do.
    assert sweep_at(at(2026, 5, 2, 0, 10)) == ZERO


def test_a_trial_reminds_once_3_days_before_then_charges_the_card(billed_workspace, owner):
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9), trial=True)  # ends 15 April
    mail.outbox.clear()

    assert sweep_at(at(2026, 4, 11, 21))["trial_reminders"] == 0  # 23:00 in Paris
    assert sweep_at(at(2026, 4, 12, 0, 5))["trial_reminders"] == 1
    assert sweep_at(at(2026, 4, 13, 0, 5))["trial_reminders"] == 0
    [reminder] = mail.outbox
    assert reminder.subject == "Votre essai se termine dans 3 jours — Acme Test"
    assert "15 avril 2026" in reminder.body
    assert "Aucune méthode de paiement" in reminder.body

    save_card(billed_workspace, owner, now=at(2026, 4, 13))
    summary = sweep_at(at(2026, 4, 15, 0, 5))

    assert summary["trials_ended"] == 1
    subscription = _sub(billed_workspace)
    assert subscription.status == "active"
    assert (subscription.current_period_start, subscription.current_period_end) == (
        paris(2026, 4, 15),
        paris(2026, 5, 15),
    )
    invoice = Invoice.objects.get(workspace=billed_workspace)
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.total_cents == 2_400


def test_a_trial_without_a_card_expires_to_free(billed_workspace, owner):
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9), trial=True)
    mail.outbox.clear()

    summary = sweep_at(at(2026, 4, 15, 0, 5))

    assert summary["trials_ended"] == 1
    assert _sub(billed_workspace).plan.is_free
    assert not Invoice.objects.filter(workspace=billed_workspace).exists()
    assert [m.subject for m in mail.outbox] == ["Votre abonnement est terminé — Acme Test"]


def test_billing_tick_runs_the_sweeps_as_of_the_given_instant(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))
    out = StringIO()

    call_command("billing_tick", "--at", "2026-05-01T00:05:00+00:00", stdout=out)

    assert "renewed: 1" in out.getvalue()
    assert "allowances_reset" in out.getvalue()
    assert _sub(billed_workspace).current_period_end == paris(2026, 6, 1)
    # Synchronous: the renewal was charged by the tick itself.
    renewal = Invoice.objects.get(workspace=billed_workspace, billing_reason="subscription_cycle")
    assert renewal.status == InvoiceStatus.PAID
    assert renewal.paid_at == at(2026, 5, 1, 0, 5)


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "01/05/2026", ""])
def test_billing_tick_refuses_a_bad_instant_and_changes_nothing(billed_workspace, owner, value):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))
    before = db_state(billed_workspace)

    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("billing_tick", "--at", value, stdout=StringIO())

    assert db_state(billed_workspace) == before


@pytest.mark.parametrize(
    "value", ["9999-12-31", "9999-12-31T23:59:59-12:00", "0001-01-01", "1969-12-31T23:59"]
)
def test_billing_tick_refuses_an_instant_out_of_range_and_changes_nothing(billed_workspace, owner, value):
    """Dates whose periods cannot be computed are refused up front, not a traceback."""
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))
    before = db_state(billed_workspace)

    with pytest.raises(CommandError, match="between 1970-01-01 and 9000-12-31"):
        call_command("billing_tick", "--at", value, stdout=StringIO())

    assert db_state(billed_workspace) == before


def test_a_charge_task_delivered_twice_records_the_failure_once(billed_workspace, owner):
    from billing.tasks import charge_invoice_task

    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))
    save_card(billed_workspace, owner, VISA_DECLINED, now=at(2026, 4, 20))
    sweep_at(at(2026, 5, 1, 0, 5))
    renewal = Invoice.objects.get(workspace=billed_workspace, billing_reason="subscription_cycle")
    mail.outbox.clear()
    state = db_state(billed_workspace)

    # Celery delivers at least once: the same attempt arrives again.
    assert charge_invoice_task.delay(renewal.pk, 1, at(2026, 5, 1, 0, 6).isoformat()).get() is False

    assert db_state(billed_workspace) == state
    renewal.refresh_from_db()
    assert renewal.attempt_count == 1
    assert mail.outbox == []
