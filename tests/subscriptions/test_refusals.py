"""Bad input, stale previews, roles and tenants: a clear error and nothing changed
(acceptance 3)."""

from datetime import timedelta

import pytest

from billing import services
from invoices.models import AccountBalanceEntry
from subscriptions import errors
from subscriptions.models import (
    CancelReason,
    Plan,
    Price,
    Subscription,
)
from tests.factories import PriceFactory, price_id, subscribe
from tests.subscriptions.conftest import APRIL_1, APRIL_10, add_members, db_state, save_card
from workspaces.errors import PermissionDenied
from workspaces.models import Role

# --- Bad input: a clear error and nothing changed (acceptance 3) -------------------------


def _usd_business_price() -> Price:
    return PriceFactory(plan=Plan.objects.get(code="business"), currency="USD", seat_amount=2_200)


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
