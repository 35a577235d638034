"""Each factory makes a row the product considers valid: the service-backed ones leave the
invariants their services keep (ledger sum, numbered invoices, account balance)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from credits.apikeys import api_key_authenticate
from credits.models import GrantBucket, ReservationStatus
from invoices.models import Invoice, InvoiceStatus
from invoices.selectors import account_balance_cents
from subscriptions.models import Channel, PaymentMethod, SubscriptionStatus
from teams.models import Seat
from tests.credits.helpers import assert_ledger_consistent
from tests.factories import (
    VISA_DECLINED,
    AccountBalanceCreditFactory,
    ApiKeyFactory,
    ConsumptionFactory,
    CreditBalanceFactory,
    DraftInvoiceFactory,
    DraftInvoiceLineFactory,
    FreeCreditsFactory,
    InvitationFactory,
    InvoiceFactory,
    MembershipFactory,
    PaymentMethodFactory,
    PriceFactory,
    PurchasedCreditsFactory,
    ReservationFactory,
    SubscriptionAddOnFactory,
    SubscriptionFactory,
    SubscriptionRowFactory,
    UserFactory,
)
from workspaces.models import Role

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)


def test_a_user_signs_in_with_a_verified_primary_address():
    user = UserFactory()
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == (user.email, True, True)


def test_the_credit_factories_keep_the_ledger_consistent(workspace, owner):
    balance = CreditBalanceFactory(workspace=workspace, created_at=NOW)
    bought = PurchasedCreditsFactory(workspace=workspace, amount=100, created_at=NOW)
    gift = FreeCreditsFactory(workspace=workspace, amount=20, created_at=NOW)
    entry = ConsumptionFactory(workspace=workspace, quantity=3, created_at=NOW)
    held = ReservationFactory(workspace=workspace, action="prototype_screen", created_at=NOW)

    assert balance.balance == 10  # Free's allowance
    assert (bought.bucket, gift.bucket) == (GrantBucket.PURCHASED, GrantBucket.FREE)
    assert (entry.kind, entry.amount, entry.actor_id) == ("consume", -3, owner.user_id)
    assert (held.status, held.amount) == (ReservationStatus.HELD, 5)
    assert_ledger_consistent(workspace)


def test_an_api_key_comes_with_its_plain_key_once(workspace):
    key = ApiKeyFactory(workspace=workspace)
    assert api_key_authenticate(key=key.plain) == key


def test_invoices_are_issued_numbered_and_drafts_are_not(workspace):
    AccountBalanceCreditFactory(workspace=workspace, amount_cents=1_000, created_at=NOW)
    invoice = InvoiceFactory(workspace=workspace, issued_at=NOW)
    draft = DraftInvoiceLineFactory(invoice=DraftInvoiceFactory(workspace=workspace)).invoice

    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.number.startswith("INV-2026-")
    assert invoice.account_credit_applied_cents == 1_000
    assert account_balance_cents(workspace) == 0
    assert (draft.status, draft.number) == (InvoiceStatus.DRAFT, None)


def test_a_card_is_saved_as_the_default_payment_method(workspace, owner):
    first = PaymentMethodFactory(workspace=workspace, created_at=NOW)
    declined = PaymentMethodFactory(workspace=workspace, number=VISA_DECLINED, created_at=NOW)
    assert list(PaymentMethod.objects.filter(is_default=True)) == [declined]
    assert (first.last4, declined.last4) == ("4242", "0341")
    # Saved through Stripe: the card is Stripe's PaymentMethod, never its number.
    assert first.card_token.startswith("pm_")
    assert declined.card_token.startswith("pm_")


def test_a_subscription_is_bought_through_billing(workspace, owner):
    MembershipFactory.create_batch(4, workspace=workspace, role=Role.MEMBER)
    subscription = SubscriptionFactory(workspace=workspace, plan_code="pro", now=NOW)

    assert (subscription.plan.code, subscription.status) == ("pro", SubscriptionStatus.ACTIVE)
    assert Invoice.objects.get(workspace=workspace).status == InvoiceStatus.PAID
    assert Seat.objects.filter(workspace=workspace).count() == 2  # 5 licences, 3 included


def test_a_subscription_row_is_the_row_alone(workspace, owner):
    MembershipFactory.create_batch(4, workspace=workspace, role=Role.MEMBER)
    subscription = SubscriptionRowFactory(workspace=workspace, channel=Channel.MOBILE)
    SubscriptionAddOnFactory(subscription=subscription, code="prototypes")

    assert (subscription.current_period_start, subscription.current_period_end) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert subscription.addons.get().addon.code == "prototypes"
    assert PaymentMethod.objects.filter(workspace=workspace, is_default=True).exists()
    assert not Invoice.objects.exists()
    assert not Seat.objects.exists()


def test_catalog_rows_and_invitations(workspace, owner):
    price = PriceFactory(currency="USD", seat_amount=2_200)
    invitation = InvitationFactory(workspace=workspace)
    assert (price.plan.is_public, price.interval) == (True, "month")
    assert invitation.invited_by == owner.user
    assert invitation.accepted_at is None
    assert invitation.expires_at > timezone.now()  # pending
