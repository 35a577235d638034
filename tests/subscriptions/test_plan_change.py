"""Changing plan, prorated to the cent (seed 001), and switching to annual billing
(docs/rules/lifecycle.md, docs/rules/proration.md)."""

import pytest

from billing import services
from credits.models import CreditGrant, GrantBucket
from invoices.models import Invoice, InvoiceStatus
from invoices.selectors import account_balance_cents
from subscriptions import errors
from subscriptions.models import (
    EventKind,
    SubscriptionEvent,
)
from tests.factories import line_text, price_id, subscribe
from tests.subscriptions.conftest import (
    APRIL_1,
    APRIL_10,
    NBSP,
    _charges,
    _sub,
    add_members,
    at,
    db_state,
    paris,
    save_card,
)

# --- Changing plan (seed 001: immediate and prorated) ---------------------------------


def test_an_upgrade_on_day_10_charges_exactly_the_prorated_difference(on_starter, owner):
    preview = services.preview_change_plan(workspace=on_starter, price_id=price_id("business"), now=APRIL_10)

    # Business for 3 seats is 60,00 €, Starter 30,00 €; 21 of 30 days remain.
    assert [(line.kind, line_text(line), line.amount_cents) for line in preview.lines] == [
        (
            "plan_proration",
            f"Forfait Business, reste de la période | 1 × 60,00{NBSP}€ × 21/30 jours = 42,00{NBSP}€",
            4_200,
        ),
        (
            "credit",
            f"Temps non utilisé sur Starter | -1 × 30,00{NBSP}€ × 21/30 jours = -21,00{NBSP}€",
            -2_100,
        ),
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
        paris(2026, 4, 1),
        paris(2026, 5, 1),
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
    # 3 seats × 21/30 × (20,00 € − 10,00 €) = 21,00 € HT, credited with its 4,20 € VAT.
    assert preview.totals.total_cents == -2_520
    assert preview.total_due_now_cents == 0
    assert preview.account_credit_cents == 2_520
    result = services.apply_change_plan(
        workspace=billed_workspace, actor=owner, price_id=price_id("starter"), preview=preview, now=APRIL_10
    )

    assert result.invoice.number == "AV-2026-000001"
    assert result.invoice.total_cents == -2_520
    assert result.account_credit_cents == 2_520
    assert account_balance_cents(billed_workspace) == 2_520
    assert Invoice.objects.filter(workspace=billed_workspace, billing_reason="plan_change").count() == 1

    renewal = services.apply_renew(workspace=billed_workspace, now=at(2026, 5, 1, 0, 5))

    assert renewal.invoice.total_cents == 3_600  # Starter, 3 seats, VAT included
    assert renewal.invoice.account_credit_applied_cents == 2_520
    assert renewal.invoice.amount_due_cents == 1_080
    assert _charges(billed_workspace)[-1].amount_cents == 1_080
    assert account_balance_cents(billed_workspace) == 0


def test_a_plan_change_keeps_the_billing_period_or_moves_to_annual(on_starter):
    # Monthly to weekly is no plan change; monthly to annual is (tests/billing/test_plan_preview_details.py).
    with pytest.raises(errors.IntervalMismatch):
        services.preview_change_plan(workspace=on_starter, price_id=price_id("pro", "week"), now=APRIL_10)
    with pytest.raises(errors.SamePlan):
        services.preview_change_plan(workspace=on_starter, price_id=price_id("starter"), now=APRIL_10)
    with pytest.raises(errors.FreePlanNotSellable):
        services.preview_change_plan(workspace=on_starter, price_id=price_id("free"), now=APRIL_10)


# --- Switching to annual ---------------------------------------------------------------


def test_monthly_to_annual_charges_the_annual_price_minus_unused_monthly_time(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "team-starter", now=APRIL_1)

    preview = services.preview_switch_to_annual(workspace=billed_workspace, now=APRIL_10)

    # 159,00 € × 21/30 = 111,30 € of the month given back.
    assert [(line.kind, line_text(line), line.amount_cents) for line in preview.lines] == [
        ("plan", f"Forfait Team Starter | 1 × 1\u202f590,00{NBSP}€ = 1\u202f590,00{NBSP}€", 159_000),
        (
            "credit",
            f"Temps non utilisé sur Team Starter | -1 × 159,00{NBSP}€ × 21/30 jours = -111,30{NBSP}€",
            -11_130,
        ),
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
        paris(2026, 4, 10),
        paris(2027, 4, 10),
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
