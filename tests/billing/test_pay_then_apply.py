"""Changes that cost money take effect when paid (docs/rules/lifecycle.md#pay-then-apply):
a declined charge changes nothing, voids its invoice and leaves no dunning behind."""

import pytest

from billing import services
from credits.models import CreditGrant, GrantBucket
from credits.selectors import credit_summary
from invoices.models import Invoice, InvoiceStatus
from subscriptions.models import Subscription, SubscriptionStatus
from tests.subscriptions.conftest import VISA_DECLINED, at, price_id, save_card, subscribe

pytestmark = pytest.mark.django_db

APRIL_1 = at(2026, 4, 1, 9)
APRIL_10 = at(2026, 4, 10, 9)


@pytest.fixture
def business(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=APRIL_1)
    return billed_workspace


def _state(workspace):
    sub = Subscription.objects.select_related("plan").get(workspace=workspace)
    return sub.plan.code, sub.status, sub.extra_seats, sub.past_due_since


def test_a_declined_upgrade_changes_nothing_and_voids_its_invoice(business, owner):
    save_card(business, owner, VISA_DECLINED)
    before, allowance = _state(business), credit_summary(business, now=APRIL_10).allowance
    enterprise = price_id("enterprise")
    preview = services.preview_change_plan(workspace=business, price_id=enterprise, now=APRIL_10)

    result = services.apply_change_plan(
        workspace=business, actor=owner, price_id=enterprise, preview=preview, now=APRIL_10
    )

    assert result.payment is not None
    assert result.payment.succeeded is False
    assert result.invoice.status == InvoiceStatus.VOID
    assert result.invoice.total_cents == 1_680
    # The issued invoice is cancelled by a credit note; its number stays used.
    note = Invoice.objects.get(corrects=result.invoice)
    assert (note.number, note.status, note.total_cents) == ("AV-2026-000001", InvoiceStatus.ISSUED, -1_680)
    assert _state(business) == before == ("business", SubscriptionStatus.ACTIVE, 0, None)
    assert credit_summary(business, now=APRIL_10).allowance == allowance == 50


def test_a_declined_credit_pack_grants_nothing_and_leaves_no_dunning(business, owner):
    save_card(business, owner, VISA_DECLINED)
    preview = services.preview_customize(workspace=business, extra_seats=2, credit_packs=1, now=APRIL_10)

    result = services.apply_customize(
        workspace=business, actor=owner, extra_seats=2, credit_packs=1, preview=preview, now=APRIL_10
    )

    assert result.payment.succeeded is False
    assert result.invoice.status == InvoiceStatus.VOID
    assert not CreditGrant.objects.filter(workspace=business, bucket=GrantBucket.PURCHASED).exists()
    assert _state(business) == ("business", SubscriptionStatus.ACTIVE, 0, None)


def test_a_paid_upgrade_applies_with_its_allowance(business, owner):
    enterprise = price_id("enterprise")
    preview = services.preview_change_plan(workspace=business, price_id=enterprise, now=APRIL_10)

    result = services.apply_change_plan(
        workspace=business, actor=owner, price_id=enterprise, preview=preview, now=APRIL_10
    )

    assert result.payment.succeeded is True
    assert result.invoice.status == InvoiceStatus.PAID
    assert _state(business) == ("enterprise", SubscriptionStatus.ACTIVE, 0, None)
    assert credit_summary(business, now=APRIL_10).allowance == 100
