"""Cancel, reactivate, expire (docs/rules/lifecycle.md)."""

import pytest

from billing import services
from credits.models import CreditGrant, GrantBucket
from credits.selectors import credit_summary
from subscriptions import errors
from subscriptions.models import (
    CancelReason,
    SubscriptionStatus,
)
from tests.factories import subscribe
from tests.subscriptions.conftest import APRIL_1, APRIL_10, _sub, at, paris, save_card

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
    assert subscription.current_period_end == paris(2026, 5, 1)


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
