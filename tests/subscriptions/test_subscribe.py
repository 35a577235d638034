"""Free and subscribing: the first period charged with its formula lines, trials
(docs/rules/lifecycle.md)."""

import pytest

from billing import services
from billing.onboarding import workspace_open
from credits.models import CreditGrant, GrantBucket
from invoices.models import InvoiceStatus
from subscriptions import errors
from subscriptions.models import (
    EventKind,
    SubscriptionEvent,
    SubscriptionStatus,
)
from tests.factories import UserFactory, line_text, price_id, subscribe
from tests.subscriptions.conftest import APRIL_1, NBSP, _charges, _sub, at, db_state, paris, save_card

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

    assert [(line.kind, line_text(line), line.amount_cents) for line in preview.lines] == [
        ("plan", f"Forfait Team Starter | 1 × 159,00{NBSP}€ = 159,00{NBSP}€", 15_900),
        ("seats", f"Team Starter, sièges supplémentaires | 5 × 15,00{NBSP}€ = 75,00{NBSP}€", 7_500),
    ]
    assert preview.totals.subtotal_cents == 23_400
    assert preview.totals.vat_cents == 4_680
    assert preview.total_due_now_cents == 28_080
    assert preview.next_renewal_cents == 28_080
    assert preview.next_renewal_at == paris(2026, 5, 1)

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
        paris(2026, 4, 1),
        paris(2026, 5, 1),
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
    assert subscription.trial_end == paris(2026, 4, 15)  # Business: 14 days
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
