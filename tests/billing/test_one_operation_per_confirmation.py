"""Each confirmation is one operation (docs/rules/lifecycle.md#one-operation-per-confirmation):
two purchases of the same pack on one day are two purchases; a replay of one confirmation
is one. The idempotency comes from the token minted with the preview, never from the state."""

import pytest

from billing import services
from credits.models import CreditGrant, GrantBucket
from invoices.models import Invoice
from subscriptions.models import LocalCharge
from tests.subscriptions.conftest import at, save_card, subscribe

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
    assert [c.amount_cents for c in LocalCharge.objects.filter(workspace=starter).order_by("id")][-2:] == [
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
    assert LocalCharge.objects.filter(workspace=starter, amount_cents=600).count() == 1


def test_two_previews_of_one_change_carry_different_tokens(starter):
    now = at(2026, 4, 10, 10)
    one = services.preview_customize(workspace=starter, extra_seats=0, credit_packs=1, now=now)
    two = services.preview_customize(workspace=starter, extra_seats=0, credit_packs=1, now=now)

    assert one.fingerprint == two.fingerprint
    assert one.token != two.token
