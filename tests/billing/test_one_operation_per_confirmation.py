"""Each confirmation is one operation (docs/rules/lifecycle.md#one-operation-per-confirmation):
two purchases of the same pack on one day are two purchases; a replay of one confirmation
is one. The idempotency comes from the token minted with the preview, never from the state."""

import pytest

from billing import services
from credits.models import CreditGrant, GrantBucket
from invoices.models import Charge, Invoice
from tests.subscriptions.conftest import VISA_DECLINED, at, price_id, save_card, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def starter(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "team-starter", now=at(2026, 4, 1, 9))
    return billed_workspace


def _buy_one_pack(workspace, owner, now):
    preview = services.preview_customize(workspace=workspace, extra_seats=0, credit_packs=1, now=now)
    return preview, services.apply_customize(
        workspace=workspace, actor=owner, extra_seats=0, credit_packs=1, preview=preview, now=now
    )


def _purchased_credits(workspace) -> int:
    return sum(
        CreditGrant.objects.filter(workspace=workspace, bucket=GrantBucket.PURCHASED).values_list(
            "amount", flat=True
        )
    )


def test_the_same_pack_bought_twice_on_one_day_is_two_purchases(starter, owner):
    first_preview, first = _buy_one_pack(starter, owner, at(2026, 4, 10, 10))
    second_preview, second = _buy_one_pack(starter, owner, at(2026, 4, 10, 11))

    assert first_preview.total_due_now_cents == second_preview.total_due_now_cents == 600
    assert first.invoice.pk != second.invoice.pk
    assert [
        i.total_cents for i in Invoice.objects.filter(workspace=starter, billing_reason="customization")
    ] == [
        600,
        600,
    ]
    assert _purchased_credits(starter) == 2 * 1_000_000
    # Two charges of 6,00 € (5,00 € + 20 % VAT), one per purchase.
    assert [c.amount_cents for c in Charge.objects.filter(workspace=starter).order_by("id")][-2:] == [
        600,
        600,
    ]


def test_a_replayed_confirmation_is_one_operation(starter, owner):
    now = at(2026, 4, 10, 10)
    preview = services.preview_customize(workspace=starter, extra_seats=0, credit_packs=1, now=now)
    first = services.apply_customize(
        workspace=starter, actor=owner, extra_seats=0, credit_packs=1, preview=preview, now=now
    )
    again = services.apply_customize(
        workspace=starter, actor=owner, extra_seats=0, credit_packs=1, preview=preview, now=now
    )

    assert again.invoice.pk == first.invoice.pk
    assert _purchased_credits(starter) == 1_000_000
    assert Charge.objects.filter(workspace=starter, amount_cents=600).count() == 1


def test_two_previews_of_one_change_carry_different_tokens(starter):
    now = at(2026, 4, 10, 10)
    one = services.preview_customize(workspace=starter, extra_seats=0, credit_packs=1, now=now)
    two = services.preview_customize(workspace=starter, extra_seats=0, credit_packs=1, now=now)

    assert one.fingerprint == two.fingerprint
    assert one.token != two.token


def test_a_plan_change_confirmed_again_after_it_applied_is_the_first_change(starter, owner):
    """The second arrival finds the plan already changed: it is a repeat, not a new
    request for the plan the workspace now has (which would be refused as the same plan)."""
    now = at(2026, 4, 10, 10)
    enterprise = price_id("enterprise")
    preview = services.preview_change_plan(workspace=starter, price_id=enterprise, now=now)
    first = services.apply_change_plan(
        workspace=starter, actor=owner, price_id=enterprise, preview=preview.confirmation, now=now
    )
    charges = Charge.objects.filter(workspace=starter).count()

    again = services.apply_change_plan(
        workspace=starter,
        actor=owner,
        price_id=enterprise,
        preview=preview.confirmation,
        now=at(2026, 4, 10, 10, 1),
    )

    assert first.invoice is not None
    assert again.invoice.pk == first.invoice.pk
    assert again.preview.total_due_now_cents == first.invoice.amount_due_cents
    assert Charge.objects.filter(workspace=starter).count() == charges


def test_a_switch_to_annual_and_a_cancellation_confirmed_twice_answer_the_first_result(starter, owner):
    now = at(2026, 4, 10, 10)
    switch = services.preview_switch_to_annual(workspace=starter, now=now)
    first = services.apply_switch_to_annual(
        workspace=starter, actor=owner, preview=switch.confirmation, now=now
    )
    again = services.apply_switch_to_annual(
        workspace=starter, actor=owner, preview=switch.confirmation, now=now
    )
    assert first.invoice is not None
    assert again.invoice.pk == first.invoice.pk

    cancel = services.preview_cancel(workspace=starter, reason="too_expensive", now=now)
    services.apply_cancel(
        workspace=starter, actor=owner, reason="too_expensive", preview=cancel.confirmation, now=now
    )
    replay = services.apply_cancel(
        workspace=starter, actor=owner, reason="too_expensive", preview=cancel.confirmation, now=now
    )
    assert replay.invoice is None
    assert replay.subscription.canceled_at == now


def test_a_declined_change_confirmed_again_reports_the_decline_and_charges_nothing_more(starter, owner):
    save_card(starter, owner, VISA_DECLINED)
    now = at(2026, 4, 10, 10)
    preview = services.preview_customize(workspace=starter, extra_seats=0, credit_packs=1, now=now)
    first = services.apply_customize(
        workspace=starter, actor=owner, extra_seats=0, credit_packs=1, preview=preview.confirmation, now=now
    )
    again = services.apply_customize(
        workspace=starter, actor=owner, extra_seats=0, credit_packs=1, preview=preview.confirmation, now=now
    )

    assert first.payment is not None
    assert not first.payment.succeeded
    assert again.invoice.pk == first.invoice.pk
    assert again.payment is not None
    assert not again.payment.succeeded
    assert Charge.objects.filter(workspace=starter, amount_cents=600).count() == 1
