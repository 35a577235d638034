"""The billing services: previews and applies, to the cent (docs/rules/lifecycle.md, docs/rules/proration.md)."""

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services
from billing.onboarding import workspace_open
from billing.services import invoice_refund
from credits.models import CreditGrant, GrantBucket
from credits.selectors import credit_summary
from credits.services import credits_consume
from invoices.models import AccountBalanceEntry, Invoice, InvoiceStatus
from invoices.selectors import account_balance_cents
from subscriptions import errors
from subscriptions.models import (
    CancelReason,
    EventKind,
    LocalCharge,
    Price,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
)
from tests.factories import UserFactory
from tests.subscriptions.conftest import (
    NBSP,
    VISA_DECLINED,
    add_members,
    at,
    db_state,
    price_id,
    save_card,
    subscribe,
)
from workspaces.errors import PermissionDenied
from workspaces.models import Role

APRIL_1 = at(2026, 4, 1, 9)
APRIL_10 = at(2026, 4, 10, 9)  # day 10 of a 30-day month: 21 of 30 days remain


def _sub(workspace) -> Subscription:
    return Subscription.objects.select_related("plan", "price").get(workspace=workspace)


def _charges(workspace):
    return list(LocalCharge.objects.filter(workspace=workspace).order_by("id"))


# --- Free and subscribing -------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_workspace_starts_on_free():
    workspace = workspace_open(owner=UserFactory(), name="Fresh")
    subscription = _sub(workspace)
    assert subscription.plan.is_free
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert SubscriptionEvent.objects.filter(workspace=workspace, kind=EventKind.STARTED_FREE).count() == 1
    # Idempotent: a second start keeps the row.
    assert services.subscription_start_free(workspace=workspace, now=at(2026, 5, 1)).pk == subscription.pk


def test_subscribe_charges_the_first_period_with_its_formula_lines(billed_workspace, owner, other_billed):
    save_card(billed_workspace, owner)

    preview = services.preview_subscribe(
        workspace=billed_workspace, price_id=price_id("team-starter"), extra_seats=5, now=APRIL_1
    )

    assert [(line.kind, line.description, line.amount_cents) for line in preview.lines] == [
        ("plan", f"Team Starter, 1 month × 159,00{NBSP}€", 15_900),
        ("seats", f"Team Starter, 5 extra seats × 15,00{NBSP}€", 7_500),
    ]
    assert preview.totals.subtotal_cents == 23_400
    assert preview.totals.vat_cents == 4_680
    assert preview.total_due_now_cents == 28_080
    assert preview.next_renewal_cents == 28_080
    assert preview.next_renewal_at == at(2026, 5, 1)

    result = services.apply_subscribe(
        workspace=billed_workspace,
        actor=owner,
        price_id=price_id("team-starter"),
        extra_seats=5,
        preview=preview,
        now=APRIL_1,
    )

    subscription = _sub(billed_workspace)
    assert subscription.plan.code == "team-starter"
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert (subscription.current_period_start, subscription.current_period_end) == (
        at(2026, 4, 1),
        at(2026, 5, 1),
    )
    assert subscription.extra_seats == 5
    assert result.invoice.status == InvoiceStatus.PAID
    assert result.invoice.amount_due_cents == preview.total_due_now_cents
    [charge] = _charges(billed_workspace)
    assert charge.amount_cents == preview.total_due_now_cents
    assert charge.idempotency_key == f"invoice:{result.invoice.pk}:attempt:1"
    assert result.invoice.source == f"subscribe:{subscription.pk}:{preview.token}"
    # The new plan's allowance applies at once (Team Starter: 28 M flat).
    allowance = CreditGrant.objects.get(
        workspace=billed_workspace, bucket=GrantBucket.PLAN_ALLOWANCE, expired_at=None
    )
    assert allowance.amount == 28_000_000


def test_subscribing_without_a_payment_method_is_refused_and_changes_nothing(billed_workspace, owner):
    before = db_state(billed_workspace)
    preview = services.preview_subscribe(
        workspace=billed_workspace, price_id=price_id("business"), now=APRIL_1
    )

    with pytest.raises(errors.PaymentMethodRequired):
        services.apply_subscribe(
            workspace=billed_workspace,
            actor=owner,
            price_id=price_id("business"),
            preview=preview,
            now=APRIL_1,
        )

    assert db_state(billed_workspace) == before


def test_a_trial_starts_free_and_only_once(billed_workspace, owner):
    result = subscribe(billed_workspace, owner, "business", now=APRIL_1, trial=True)

    subscription = _sub(billed_workspace)
    assert result.invoice is None
    assert result.preview.total_due_now_cents == 0
    assert subscription.status == SubscriptionStatus.TRIALING
    assert subscription.trial_end == at(2026, 4, 15)  # Business: 14 days
    assert subscription.billing_anchor_day == 15
    assert _charges(billed_workspace) == []

    services.apply_expire(workspace=billed_workspace, now=at(2026, 4, 2))
    with pytest.raises(errors.TrialAlreadyUsed):
        services.preview_subscribe(
            workspace=billed_workspace, price_id=price_id("pro"), trial=True, now=at(2026, 4, 3)
        )


def test_a_plan_without_trial_cannot_start_one(billed_workspace):
    with pytest.raises(errors.TrialUnavailable):
        services.preview_subscribe(
            workspace=billed_workspace, price_id=price_id("starter"), trial=True, now=APRIL_1
        )


# --- Changing plan (seed 001: immediate and prorated) ---------------------------------


@pytest.fixture
def on_starter(billed_workspace, owner):
    """Starter monthly since 1 April 2026 with three licensed members (30,00 €/month)."""
    add_members(billed_workspace, 2)
    add_members(billed_workspace, 1, Role.GUEST)  # holds no licence: not billed
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "starter", now=APRIL_1)
    return billed_workspace


def test_an_upgrade_on_day_10_charges_exactly_the_prorated_difference(on_starter, owner):
    preview = services.preview_change_plan(workspace=on_starter, price_id=price_id("business"), now=APRIL_10)

    # Business for 3 seats is 60,00 €, Starter 30,00 €; 21 of 30 days remain.
    assert [(line.kind, line.description, line.amount_cents) for line in preview.lines] == [
        ("plan_proration", f"Business, 21 of 30 days × 60,00{NBSP}€", 4_200),
        ("credit", f"Unused time on Starter, 21 of 30 days × 30,00{NBSP}€", -2_100),
    ]
    assert preview.totals.subtotal_cents == 2_100
    assert preview.totals.vat_cents == 420
    assert preview.total_due_now_cents == 2_520
    assert preview.next_renewal_cents == 7_200  # Business, 3 seats, VAT included

    result = services.apply_change_plan(
        workspace=on_starter, actor=owner, price_id=price_id("business"), preview=preview, now=APRIL_10
    )

    subscription = _sub(on_starter)
    assert subscription.plan.code == "business"
    assert (subscription.current_period_start, subscription.current_period_end) == (
        at(2026, 4, 1),
        at(2026, 5, 1),
    )
    assert result.invoice.billing_reason == "plan_change"
    assert result.invoice.total_cents == 2_520
    assert result.invoice.status == InvoiceStatus.PAID
    assert _charges(on_starter)[-1].amount_cents == 2_520
    assert list(result.invoice.lines.values_list("amount_cents", flat=True)) == [4_200, -2_100]
    # The plan change applies the new allowance now: 50 credits × 3 licences.
    allowance = CreditGrant.objects.get(
        workspace=on_starter, bucket=GrantBucket.PLAN_ALLOWANCE, expired_at=None
    )
    assert allowance.amount == 150
    event = SubscriptionEvent.objects.get(workspace=on_starter, kind=EventKind.PLAN_CHANGED)
    assert event.actor == owner.user
    assert event.data["direction"] == "upgrade"


def test_a_downgrade_leaves_account_credit_that_the_next_invoice_consumes(billed_workspace, owner):
    add_members(billed_workspace, 2)
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=APRIL_1)

    preview = services.preview_change_plan(
        workspace=billed_workspace, price_id=price_id("starter"), now=APRIL_10
    )
    assert preview.totals.total_cents == -2_100
    assert preview.total_due_now_cents == 0
    assert preview.account_credit_cents == 2_100
    result = services.apply_change_plan(
        workspace=billed_workspace, actor=owner, price_id=price_id("starter"), preview=preview, now=APRIL_10
    )

    assert result.invoice is None
    assert result.account_credit_cents == 2_100
    assert account_balance_cents(billed_workspace) == 2_100
    assert Invoice.objects.filter(workspace=billed_workspace, billing_reason="plan_change").count() == 0

    renewal = services.apply_renew(workspace=billed_workspace, now=at(2026, 5, 1, 0, 5))

    assert renewal.invoice.total_cents == 3_600  # Starter, 3 seats, VAT included
    assert renewal.invoice.account_credit_applied_cents == 2_100
    assert renewal.invoice.amount_due_cents == 1_500
    assert _charges(billed_workspace)[-1].amount_cents == 1_500
    assert account_balance_cents(billed_workspace) == 0


def test_a_plan_change_keeps_the_billing_period(on_starter):
    with pytest.raises(errors.IntervalMismatch):
        services.preview_change_plan(
            workspace=on_starter, price_id=price_id("business", "year"), now=APRIL_10
        )
    with pytest.raises(errors.SamePlan):
        services.preview_change_plan(workspace=on_starter, price_id=price_id("starter"), now=APRIL_10)
    with pytest.raises(errors.FreePlanNotSellable):
        services.preview_change_plan(workspace=on_starter, price_id=price_id("free"), now=APRIL_10)


# --- Switching to annual ---------------------------------------------------------------


def test_monthly_to_annual_charges_the_annual_price_minus_unused_monthly_time(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "team-starter", now=APRIL_1)

    preview = services.preview_switch_to_annual(workspace=billed_workspace, now=APRIL_10)

    assert [(line.kind, line.description, line.amount_cents) for line in preview.lines] == [
        ("plan", f"Team Starter, 1 year × 1\u202f590,00{NBSP}€", 159_000),
        ("credit", f"Unused time on Team Starter, 21 of 30 days × 159,00{NBSP}€", -11_130),
    ]
    assert preview.totals.subtotal_cents == 147_870
    assert preview.total_due_now_cents == 147_870 + 29_574
    result = services.apply_switch_to_annual(
        workspace=billed_workspace, actor=owner, preview=preview, now=APRIL_10
    )

    subscription = _sub(billed_workspace)
    assert subscription.price.interval == "year"
    # The new annual period starts today.
    assert (subscription.current_period_start, subscription.current_period_end) == (
        at(2026, 4, 10),
        at(2027, 4, 10),
    )
    assert subscription.billing_anchor_day == 10
    assert result.invoice.billing_reason == "annual_switch"
    assert _charges(billed_workspace)[-1].amount_cents == 177_444

    # Irreversible until the annual period ends: no second switch, no way back to monthly.
    before = db_state(billed_workspace)
    with pytest.raises(errors.AlreadyAnnual):
        services.preview_switch_to_annual(workspace=billed_workspace, now=at(2026, 6, 1))
    with pytest.raises(errors.AnnualLocked):
        services.preview_change_plan(
            workspace=billed_workspace, price_id=price_id("team-starter"), now=at(2026, 6, 1)
        )
    with pytest.raises(errors.AnnualLocked):
        services.apply_change_plan(
            workspace=billed_workspace,
            actor=owner,
            price_id=price_id("business"),
            preview="x" * 32,
            now=at(2027, 3, 1),
        )
    assert db_state(billed_workspace) == before


def test_only_a_monthly_price_with_an_annual_price_can_switch(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "pro", "week", now=APRIL_1)
    with pytest.raises(errors.AnnualSwitchUnavailable):
        services.preview_switch_to_annual(workspace=billed_workspace, now=APRIL_10)


# --- Customizing: extra seats and extra credits ----------------------------------------


def test_customize_charges_prorated_seats_and_credit_packs_and_grants_credits_once_paid(
    billed_workspace, owner
):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "team-starter", now=APRIL_1)

    preview = services.preview_customize(
        workspace=billed_workspace, extra_seats=5, credit_packs=3, now=APRIL_10
    )

    assert [(line.kind, line.description, line.amount_cents) for line in preview.lines] == [
        ("seat_proration", f"Team Starter, 5 extra seats, 21 of 30 days × 75,00{NBSP}€", 5_250),
        ("extra_credits", f"3 × 1{chr(0x202F)}000{chr(0x202F)}000 credits × 5,00{NBSP}€", 1_500),
    ]
    assert preview.total_due_now_cents == 8_100
    assert preview.next_renewal_cents == 28_080

    result = services.apply_customize(
        workspace=billed_workspace, actor=owner, extra_seats=5, credit_packs=3, preview=preview, now=APRIL_10
    )

    assert _sub(billed_workspace).extra_seats == 5
    assert result.invoice.status == InvoiceStatus.PAID
    grant = CreditGrant.objects.get(workspace=billed_workspace, bucket=GrantBucket.PURCHASED)
    assert grant.amount == 3_000_000
    assert grant.source == f"invoice:{result.invoice.pk}"
    assert grant.amount_paid_cents == 1_800  # 3 packs × 5,00 € + 20 % VAT


def test_purchased_credits_wait_for_the_payment(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "team-starter", now=APRIL_1)
    save_card(billed_workspace, owner, VISA_DECLINED)

    preview = services.preview_customize(
        workspace=billed_workspace, extra_seats=0, credit_packs=2, now=APRIL_10
    )
    result = services.apply_customize(
        workspace=billed_workspace, actor=owner, extra_seats=0, credit_packs=2, preview=preview, now=APRIL_10
    )

    assert result.payment.succeeded is False
    assert result.invoice.status == InvoiceStatus.FAILED
    assert not CreditGrant.objects.filter(workspace=billed_workspace, bucket=GrantBucket.PURCHASED).exists()
    assert _sub(billed_workspace).status == SubscriptionStatus.PAST_DUE

    save_card(billed_workspace, owner)
    outcome = services.charge_invoice(
        invoice_id=result.invoice.pk, attempt=2, now=APRIL_10 + timedelta(hours=1)
    )

    assert outcome.succeeded
    assert (
        CreditGrant.objects.get(workspace=billed_workspace, bucket=GrantBucket.PURCHASED).amount == 2_000_000
    )
    subscription = _sub(billed_workspace)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.dunning_invoice_id is None


def test_a_refund_takes_back_the_unused_purchased_credits_and_says_so(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "starter", now=APRIL_1)  # 25 credits: the owner's licence
    preview = services.preview_customize(
        workspace=billed_workspace, extra_seats=0, credit_packs=2, now=APRIL_10
    )
    result = services.apply_customize(
        workspace=billed_workspace, actor=owner, extra_seats=0, credit_packs=2, preview=preview, now=APRIL_10
    )
    # 525 credits used: the 25 of the allowance first, then 500 purchased ones.
    credits_consume(
        workspace=billed_workspace,
        actor=owner,
        action="summarize",
        quantity=525,
        idempotency_key="k1",
        now=APRIL_10,
    )

    refunded = invoice_refund(invoice=result.invoice, now=APRIL_10 + timedelta(days=1))

    assert refunded.status == InvoiceStatus.REFUNDED
    grant = CreditGrant.objects.get(workspace=billed_workspace, bucket=GrantBucket.PURCHASED)
    assert grant.remaining == 0
    assert grant.revoked_at is not None
    event = SubscriptionEvent.objects.get(workspace=billed_workspace, kind=EventKind.CREDITS_REFUNDED)
    assert event.data == {"invoice": result.invoice.pk, "credits": 2_000, "taken_back": 1_500}
    # The hook is idempotent: called again, it takes nothing more and says the same.
    again = services.settle_refunded(invoice=refunded, now=APRIL_10 + timedelta(days=2))
    assert again.startswith(f"1{chr(0x202F)}500 des 2{chr(0x202F)}000 crédits achetés")
    assert (
        SubscriptionEvent.objects.filter(workspace=billed_workspace, kind=EventKind.CREDITS_REFUNDED).count()
        == 1
    )


def test_refund_message_counts_what_was_taken_back():
    from django.utils import translation

    from billing.services.settlement import refund_message

    with translation.override("fr"):
        assert refund_message(taken=1_500, purchased=2_000) == (
            f"1{chr(0x202F)}500 des 2{chr(0x202F)}000 crédits achetés n'avaient pas été utilisés et ont été "
            "repris ; les autres avaient été consommés."
        )
        assert refund_message(taken=2_000, purchased=2_000).startswith(
            f"Les 2{chr(0x202F)}000 crédits achetés n'avaient pas été utilisés"
        )


def test_fewer_extra_seats_are_credited_to_the_account_balance(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "team-starter", extra_seats=5, now=APRIL_1)

    preview = services.preview_customize(workspace=billed_workspace, extra_seats=2, now=APRIL_10)
    assert [line.amount_cents for line in preview.lines] == [-3 * 1_500 * 21 // 30]
    result = services.apply_customize(
        workspace=billed_workspace, actor=owner, extra_seats=2, preview=preview, now=APRIL_10
    )

    assert result.invoice is None
    assert account_balance_cents(billed_workspace) == 3_150
    assert _sub(billed_workspace).extra_seats == 2


# --- Cancel, reactivate, expire -----------------------------------------------------------


def test_cancel_needs_a_reason_and_free_text_for_other(on_starter, owner):
    with pytest.raises(errors.CancelReasonRequired):
        services.preview_cancel(workspace=on_starter, reason="because", now=APRIL_10)
    with pytest.raises(errors.CancelCommentRequired):
        services.preview_cancel(workspace=on_starter, reason=CancelReason.OTHER, comment="  ", now=APRIL_10)

    preview = services.preview_cancel(
        workspace=on_starter, reason=CancelReason.OTHER, comment="We merged teams", now=APRIL_10
    )
    assert preview.next_renewal_cents is None
    services.apply_cancel(
        workspace=on_starter,
        actor=owner,
        reason=CancelReason.OTHER,
        comment="We merged teams",
        preview=preview,
        now=APRIL_10,
    )

    subscription = _sub(on_starter)
    assert subscription.status == SubscriptionStatus.CANCELED
    assert subscription.auto_renew is False
    assert subscription.cancel_comment == "We merged teams"
    assert subscription.canceled_at == APRIL_10
    # Access stays until the period ends.
    assert subscription.plan.code == "starter"
    assert subscription.current_period_end == at(2026, 5, 1)


def test_reactivating_before_the_period_ends_keeps_it_running(on_starter, owner):
    preview = services.preview_cancel(workspace=on_starter, reason=CancelReason.TOO_EXPENSIVE, now=APRIL_10)
    services.apply_cancel(
        workspace=on_starter, actor=owner, reason=CancelReason.TOO_EXPENSIVE, preview=preview, now=APRIL_10
    )

    preview = services.preview_reactivate(workspace=on_starter, now=at(2026, 4, 20))
    services.apply_reactivate(workspace=on_starter, actor=owner, preview=preview, now=at(2026, 4, 20))

    subscription = _sub(on_starter)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.auto_renew is True
    assert subscription.cancel_reason == ""
    with pytest.raises(errors.NotCanceled):
        services.preview_reactivate(workspace=on_starter, now=at(2026, 4, 21))


def test_expiry_falls_back_to_free_and_keeps_purchased_credits(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "team-starter", extra_seats=2, now=APRIL_1)
    preview = services.preview_customize(
        workspace=billed_workspace, extra_seats=2, credit_packs=1, now=APRIL_10
    )
    services.apply_customize(
        workspace=billed_workspace, actor=owner, extra_seats=2, credit_packs=1, preview=preview, now=APRIL_10
    )

    result = services.apply_expire(workspace=billed_workspace, now=at(2026, 4, 12))

    subscription = result.subscription
    assert subscription.plan.is_free
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.extra_seats == 0
    purchased = CreditGrant.objects.get(workspace=billed_workspace, bucket=GrantBucket.PURCHASED)
    assert purchased.remaining == 1_000_000
    summary = credit_summary(billed_workspace, now=at(2026, 4, 12))
    assert summary.buckets[GrantBucket.PLAN_ALLOWANCE] == 10  # Free's allowance
    assert summary.buckets[GrantBucket.PURCHASED] == 1_000_000
    with pytest.raises(errors.ReactivationTooLate):
        services.preview_reactivate(workspace=billed_workspace, now=at(2026, 4, 13))


# --- Bad input: a clear error and nothing changed (acceptance 3) -------------------------


def _usd_business_price() -> Price:
    business = Price.objects.get(plan__code="business", interval="month", currency="EUR")
    return Price.objects.create(
        plan=business.plan, interval="month", currency="USD", base_amount=0, seat_amount=2_200
    )


BAD_CALLS = {
    "negative seats": lambda ws, actor: services.apply_customize(
        workspace=ws, actor=actor, extra_seats=-1, preview="x", now=APRIL_10
    ),
    "absurd seats": lambda ws, actor: services.apply_customize(
        workspace=ws, actor=actor, extra_seats=10**9, preview="x", now=APRIL_10
    ),
    "seats above the member cap": lambda ws, actor: services.apply_customize(
        workspace=ws, actor=actor, extra_seats=46, preview="x", now=APRIL_10
    ),
    "seats as text": lambda ws, actor: services.apply_customize(
        workspace=ws,
        actor=actor,
        extra_seats="5",  # type: ignore[arg-type]
        preview="x",
        now=APRIL_10,
    ),
    "negative credit packs": lambda ws, actor: services.apply_customize(
        workspace=ws, actor=actor, extra_seats=0, credit_packs=-3, preview="x", now=APRIL_10
    ),
    "a price of another currency": lambda ws, actor: services.apply_change_plan(
        workspace=ws, actor=actor, price_id=_usd_business_price().pk, preview="x", now=APRIL_10
    ),
    "an unknown plan": lambda ws, actor: services.apply_change_plan(
        workspace=ws, actor=actor, price_id=999_999, preview="x", now=APRIL_10
    ),
    "a stale preview": lambda ws, actor: services.apply_change_plan(
        workspace=ws, actor=actor, price_id=price_id("business"), preview="0" * 32, now=APRIL_10
    ),
    "cancelling twice": lambda ws, actor: services.apply_cancel(
        workspace=ws, actor=actor, reason=CancelReason.TOO_EXPENSIVE, preview="x", now=APRIL_10
    ),
}
EXPECTED = {
    "negative seats": errors.SeatCountInvalid,
    "absurd seats": errors.SeatCountInvalid,
    "seats above the member cap": errors.SeatCountInvalid,
    "seats as text": errors.SeatCountInvalid,
    "negative credit packs": errors.CreditPacksInvalid,
    "a price of another currency": errors.PriceCurrencyMismatch,
    "an unknown plan": errors.UnknownPlan,
    "a stale preview": errors.StalePreview,
    "cancelling twice": errors.AlreadyCanceled,
}


@pytest.fixture
def on_team_starter(billed_workspace, owner, other_billed):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "team-starter", now=APRIL_1)
    return billed_workspace


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_input_is_refused_with_a_clear_error_and_nothing_changes(on_team_starter, owner, case):
    if case == "cancelling twice":
        preview = services.preview_cancel(
            workspace=on_team_starter, reason=CancelReason.TOO_EXPENSIVE, now=APRIL_1
        )
        services.apply_cancel(
            workspace=on_team_starter,
            actor=owner,
            reason=CancelReason.TOO_EXPENSIVE,
            preview=preview,
            now=APRIL_1,
        )
    before = db_state(on_team_starter)
    other_before = db_state(Subscription.objects.exclude(workspace=on_team_starter).get().workspace)

    with pytest.raises(EXPECTED[case]) as info:
        BAD_CALLS[case](on_team_starter, owner)

    assert str(info.value.message)  # a constant, clear message
    assert info.value.message == EXPECTED[case].message
    assert db_state(on_team_starter) == before
    assert db_state(Subscription.objects.exclude(workspace=on_team_starter).get().workspace) == other_before


def test_the_stale_preview_message_is_the_french_one(on_team_starter, owner):
    from django.utils import translation

    with translation.override("fr"):
        assert str(errors.StalePreview.message) == "Les conditions ont changé, vérifiez le nouveau montant"


def test_switching_an_annual_plan_to_annual_is_refused_and_changes_nothing(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", "year", now=APRIL_1)
    before = db_state(billed_workspace)

    with pytest.raises(errors.AlreadyAnnual):
        services.apply_switch_to_annual(workspace=billed_workspace, actor=owner, preview="x", now=APRIL_10)

    assert db_state(billed_workspace) == before


def test_a_preview_goes_stale_when_the_seats_change(on_starter, owner):
    preview = services.preview_change_plan(workspace=on_starter, price_id=price_id("business"), now=APRIL_10)
    add_members(on_starter, 1)  # 4 licences now: the amounts differ
    before = db_state(on_starter)

    with pytest.raises(errors.StalePreview):
        services.apply_change_plan(
            workspace=on_starter, actor=owner, price_id=price_id("business"), preview=preview, now=APRIL_10
        )

    assert db_state(on_starter) == before


def test_a_preview_goes_stale_the_next_day(on_starter, owner):
    preview = services.preview_change_plan(workspace=on_starter, price_id=price_id("business"), now=APRIL_10)
    with pytest.raises(errors.StalePreview):
        services.apply_change_plan(
            workspace=on_starter,
            actor=owner,
            price_id=price_id("business"),
            preview=preview,
            now=APRIL_10 + timedelta(days=1),
        )
    # The same day, the confirmed fingerprint goes through.
    result = services.apply_change_plan(
        workspace=on_starter,
        actor=owner,
        price_id=price_id("business"),
        preview=preview.fingerprint,
        now=APRIL_10 + timedelta(hours=3),
    )
    assert result.invoice.amount_due_cents == preview.total_due_now_cents


OPERATIONS = {
    "subscribe": lambda ws, actor: services.apply_subscribe(
        workspace=ws, actor=actor, price_id=price_id("business"), preview="x", now=APRIL_10
    ),
    "change plan": lambda ws, actor: services.apply_change_plan(
        workspace=ws, actor=actor, price_id=price_id("business"), preview="x", now=APRIL_10
    ),
    "switch to annual": lambda ws, actor: services.apply_switch_to_annual(
        workspace=ws, actor=actor, preview="x", now=APRIL_10
    ),
    "customize": lambda ws, actor: services.apply_customize(
        workspace=ws, actor=actor, extra_seats=3, preview="x", now=APRIL_10
    ),
    "cancel": lambda ws, actor: services.apply_cancel(
        workspace=ws, actor=actor, reason=CancelReason.TOO_EXPENSIVE, preview="x", now=APRIL_10
    ),
    "reactivate": lambda ws, actor: services.apply_reactivate(
        workspace=ws, actor=actor, preview="x", now=APRIL_10
    ),
    "renew": lambda ws, actor: services.apply_renew(workspace=ws, actor=actor, now=APRIL_10),
    "expire": lambda ws, actor: services.apply_expire(workspace=ws, actor=actor, now=APRIL_10),
}


@pytest.mark.parametrize("role", [Role.MEMBER, Role.GUEST, Role.BILLING_ADMIN, Role.VISITOR])
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_members_guests_and_billing_admins_cannot_change_the_subscription(
    on_team_starter, member_with_role, role, operation
):
    actor = member_with_role(role)
    before = db_state(on_team_starter)

    with pytest.raises(PermissionDenied):
        OPERATIONS[operation](on_team_starter, actor)

    assert db_state(on_team_starter) == before


def test_an_admin_of_another_workspace_cannot_act_here(on_team_starter, other_billed):
    intruder = other_billed.memberships.get(role=Role.OWNER)
    preview = services.preview_customize(workspace=on_team_starter, extra_seats=3, now=APRIL_10)
    before = db_state(on_team_starter)

    with pytest.raises(PermissionDenied):
        services.apply_customize(
            workspace=on_team_starter, actor=intruder, extra_seats=3, preview=preview, now=APRIL_10
        )

    assert db_state(on_team_starter) == before


def test_a_preview_of_one_workspace_is_stale_for_another(on_team_starter, owner, other_billed):
    other_owner = other_billed.memberships.get(role=Role.OWNER)
    foreign = services.preview_customize(workspace=other_billed, extra_seats=3, now=APRIL_10)
    before = db_state(on_team_starter)

    with pytest.raises(errors.StalePreview):
        services.apply_customize(
            workspace=on_team_starter, actor=owner, extra_seats=3, preview=foreign, now=APRIL_10
        )

    assert db_state(on_team_starter) == before
    assert db_state(other_billed)["subscription"]["extra_seats"] == 0
    assert other_owner.workspace_id == other_billed.pk


def test_the_account_balance_of_another_workspace_is_not_applied(on_team_starter, other_billed):
    from invoices.services import account_balance_credit

    account_balance_credit(
        workspace=other_billed, amount_cents=5_000, currency="EUR", reason="test", source="t:1", now=APRIL_1
    )

    preview = services.preview_customize(workspace=on_team_starter, extra_seats=1, now=APRIL_10)

    assert preview.totals.account_credit_applied_cents == 0
    assert AccountBalanceEntry.objects.filter(workspace=on_team_starter).count() == 0


# --- What was previewed is what is charged, to the cent ----------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seats=st.integers(min_value=0, max_value=45),
    packs=st.integers(min_value=0, max_value=20),
    day=st.integers(min_value=0, max_value=30),
    members=st.integers(min_value=0, max_value=12),
)
def test_previews_equal_charges_to_the_cent(on_team_starter, owner, seats, packs, day, members):
    now = at(2026, 4, 1, 10) + timedelta(days=day)  # 1 April .. 1 May: the last day renews first
    with transaction.atomic():
        add_members(on_team_starter, members)
        if now >= at(2026, 5, 1):
            services.apply_renew(workspace=on_team_starter, now=now)
        try:
            preview = services.preview_customize(
                workspace=on_team_starter, extra_seats=seats, credit_packs=packs, now=now
            )
        except errors.NothingToChange:
            transaction.set_rollback(True)
            return
        charges_before = LocalCharge.objects.filter(workspace=on_team_starter).count()
        balance_before = account_balance_cents(on_team_starter)
        result = services.apply_customize(
            workspace=on_team_starter,
            actor=owner,
            extra_seats=seats,
            credit_packs=packs,
            preview=preview,
            now=now,
        )
        charges = list(LocalCharge.objects.filter(workspace=on_team_starter).order_by("id")[charges_before:])
        if preview.total_due_now_cents:
            assert [c.amount_cents for c in charges] == [preview.total_due_now_cents]
            assert result.invoice.amount_due_cents == preview.total_due_now_cents
            assert result.invoice.total_cents == preview.totals.total_cents
            assert list(result.invoice.lines.values_list("amount_cents", flat=True)) == [
                line.amount_cents for line in preview.lines
            ]
        else:
            assert charges == []
            assert account_balance_cents(on_team_starter) == balance_before + preview.account_credit_cents
        transaction.set_rollback(True)
