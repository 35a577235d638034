"""Customizing: extra seats and extra credits, their refunds; what was previewed is
what is charged, to the cent (docs/rules/proration.md)."""

from datetime import timedelta

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services
from billing.services import invoice_refund
from credits.models import CreditGrant, GrantBucket
from credits.services import credits_consume
from invoices.models import Charge, InvoiceStatus
from invoices.selectors import account_balance_cents
from subscriptions import errors
from subscriptions.models import (
    EventKind,
    SubscriptionEvent,
    SubscriptionStatus,
)
from tests.factories import VISA_DECLINED, line_text, subscribe
from tests.subscriptions.conftest import APRIL_1, APRIL_10, NBSP, _sub, add_members, at, save_card

# --- Customizing: extra seats and extra credits ----------------------------------------


def test_customize_charges_prorated_seats_and_credit_packs_and_grants_credits_once_paid(
    billed_workspace, owner
):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "team-starter", now=APRIL_1)

    preview = services.preview_customize(
        workspace=billed_workspace, extra_seats=5, credit_packs=3, now=APRIL_10
    )

    # 5 × 15,00 € × 21/30 = 1 575,00 € / 30 = 52,50 €
    assert [(line.kind, line_text(line), line.amount_cents) for line in preview.lines] == [
        (
            "seat_proration",
            f"Team Starter, sièges supplémentaires | 5 × 15,00{NBSP}€ × 21/30 jours = 52,50{NBSP}€",
            5_250,
        ),
        (
            "extra_credits",
            f"Crédits supplémentaires, packs de 1{chr(0x202F)}000{chr(0x202F)}000 crédits | 3 × 5,00{NBSP}€ = 15,00{NBSP}€",
            1_500,
        ),
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

    # Declined: nothing is applied, the invoice is voided, no dunning (pay then apply).
    assert result.payment.succeeded is False
    assert result.invoice.status == InvoiceStatus.VOID
    assert not CreditGrant.objects.filter(workspace=billed_workspace, bucket=GrantBucket.PURCHASED).exists()
    assert _sub(billed_workspace).status == SubscriptionStatus.ACTIVE

    save_card(billed_workspace, owner)
    later = APRIL_10 + timedelta(hours=1)
    preview = services.preview_customize(workspace=billed_workspace, extra_seats=0, credit_packs=2, now=later)
    paid = services.apply_customize(
        workspace=billed_workspace, actor=owner, extra_seats=0, credit_packs=2, preview=preview, now=later
    )

    assert paid.payment.succeeded
    assert (
        CreditGrant.objects.get(workspace=billed_workspace, bucket=GrantBucket.PURCHASED).amount == 2_000_000
    )
    subscription = _sub(billed_workspace)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.past_due_since is None


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
    assert [line.amount_cents for line in preview.lines] == [-3_150]  # 3 seats × 15,00 € × 21/30
    result = services.apply_customize(
        workspace=billed_workspace, actor=owner, extra_seats=2, preview=preview, now=APRIL_10
    )

    assert result.invoice.number == "AV-2026-000001"
    assert account_balance_cents(billed_workspace) == 3_780  # 31,50 € + 6,30 € VAT
    assert _sub(billed_workspace).extra_seats == 2


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
        charges_before = Charge.objects.filter(workspace=on_team_starter).count()
        balance_before = account_balance_cents(on_team_starter)
        result = services.apply_customize(
            workspace=on_team_starter,
            actor=owner,
            extra_seats=seats,
            credit_packs=packs,
            preview=preview,
            now=now,
        )
        charges = list(Charge.objects.filter(workspace=on_team_starter).order_by("id")[charges_before:])
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
