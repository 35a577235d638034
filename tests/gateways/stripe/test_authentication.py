"""A customer's change whose charge the bank wants confirmed (3-D Secure): it waits, the
payer is emailed the invoice's confirmation page, and the change is applied exactly as
previewed once paid, or dropped (its invoice voided) when the authentication fails or
lapses after 23 hours (docs/rules/lifecycle.md#pay-then-apply,
docs/rules/payments.md#authentication)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from billing import services
from billing.sweeps import run_billing_sweeps
from credits.selectors import credit_summary
from invoices.models import Charge, DocumentType, Invoice, InvoiceStatus
from subscriptions import errors
from subscriptions.models import (
    EventKind,
    PendingChange,
    PendingChangeState,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
)
from tests.factories import MembershipFactory, price_id, subscribe
from tests.gateways.stripe.support import (
    VISA_3DS,
    VISA_OK,
    Network,
    authenticate,
    charges_of,
    client_secret_on,
    flashed,
    french,
    intent,
    intents_for,
    page_text,
    payer_emails_sent,
    save_card,
    waiting_charge,
)
from tests.subscriptions.conftest import at
from workspaces.models import Role

pytestmark = pytest.mark.django_db

APRIL_1 = at(2026, 4, 1, 9)
APRIL_10 = at(2026, 4, 10, 9)
#: The 23-hour window of a change subscribed on 1 April at 09:00 UTC.
WINDOW_END = at(2026, 4, 2, 8)


def _plan(workspace) -> tuple[str, str]:
    subscription = Subscription.objects.select_related("plan").get(workspace=workspace)
    return subscription.plan.code, subscription.status


def auth_url(invoice: Invoice) -> str:
    return reverse("stripe_charge_authenticate", args=[invoice.workspace_id, invoice.pk])


def _subscribe_business(workspace, owner, now=APRIL_1):
    preview = services.preview_subscribe(workspace=workspace, price_id=price_id("business"), now=now)
    with payer_emails_sent():
        result = services.apply_subscribe(
            workspace=workspace, actor=owner, price_id=price_id("business"), preview=preview, now=now
        )
    return preview, result


@pytest.fixture
def waiting(billed_workspace, owner):
    """On Free with a 3-D Secure card; Business monthly (24,00 €) subscribed on 1 April at
    09:00, its charge waiting for the payer's authentication."""
    save_card(billed_workspace, owner, VISA_3DS, now=APRIL_1)
    mail.outbox.clear()
    preview, result = _subscribe_business(billed_workspace, owner)
    return preview, result


# --- the change waits ------------------------------------------------------------------------


def test_a_purchase_the_bank_wants_confirmed_waits_and_changes_nothing_yet(waiting, billed_workspace):
    preview, result = waiting
    invoice = result.invoice

    assert result.payment.requires_action
    assert not result.payment.succeeded
    assert _plan(billed_workspace) == ("free", SubscriptionStatus.ACTIVE)
    assert (invoice.status, invoice.total_cents, invoice.amount_due_cents) == (
        InvoiceStatus.OPEN,
        2_400,
        2_400,
    )
    assert invoice.attempt_count == 0  # not in dunning: a change waits for it
    pending = PendingChange.objects.get(invoice=invoice)
    assert (pending.state, pending.lapses_at) == (PendingChangeState.WAITING, WINDOW_END)
    charge = waiting_charge(invoice)
    assert charge.reference.startswith("pi_")
    assert charge.action_requested_at == APRIL_1
    assert intent(charge.reference).status == "requires_action"


def test_the_billing_contacts_get_one_email_with_the_confirmation_link(waiting, billed_workspace, owner):
    _, result = waiting
    invoice = result.invoice

    (email,) = mail.outbox
    assert email.to == [owner.user.email]
    assert f"/{billed_workspace.pk}/workspace/payment/invoices/{invoice.pk}/authenticate/" in email.body
    assert auth_url(invoice) in email.body
    assert "24,00\u00a0€" in email.body
    assert invoice.number in email.body


def test_a_second_change_is_refused_while_one_waits(waiting, billed_workspace, owner):
    _, result = waiting
    preview = services.preview_subscribe(
        workspace=billed_workspace, price_id=price_id("enterprise"), now=APRIL_1
    )

    with pytest.raises(errors.PaymentAwaitingAuthentication) as refused:
        services.apply_subscribe(
            workspace=billed_workspace,
            actor=owner,
            price_id=price_id("enterprise"),
            preview=preview,
            now=APRIL_1,
        )

    assert str(refused.value.message) == french(
        "A payment is waiting for your bank's confirmation. Complete it from the invoice, "
        "or wait until it lapses, before making another change."
    )
    assert Invoice.objects.filter(workspace=billed_workspace).count() == 1
    assert _plan(billed_workspace) == ("free", SubscriptionStatus.ACTIVE)


def test_replaying_the_confirmation_returns_the_waiting_purchase(waiting, billed_workspace, owner):
    preview, result = waiting

    with payer_emails_sent():
        again = services.apply_subscribe(
            workspace=billed_workspace,
            actor=owner,
            price_id=price_id("business"),
            preview=preview,
            now=APRIL_1,
        )

    assert again.invoice.pk == result.invoice.pk
    assert again.payment.requires_action
    assert Invoice.objects.filter(workspace=billed_workspace).count() == 1
    assert charges_of(result.invoice) == [(1, "requires_action")]
    assert len(intents_for(result.invoice)) == 1
    assert len(mail.outbox) == 1


# --- the confirmation page -------------------------------------------------------------------


def test_the_page_shows_the_amount_and_runs_the_banks_check(client, settings, waiting, owner):
    _, result = waiting
    invoice = result.invoice
    client.force_login(owner.user)

    with time_machine.travel(APRIL_1 + timedelta(hours=1), tick=False):
        page = client.get(auth_url(invoice))

    assert page.status_code == 200
    text = page_text(page)
    assert invoice.number in text
    assert "24,00 €" in text
    assert client_secret_on(page) == intent(waiting_charge(invoice).reference).client_secret
    assert f'<script src="{settings.STRIPE_JS_URL}"></script>' in page.content.decode()


def test_an_authenticated_payment_applies_the_change_exactly_as_previewed(
    client, waiting, billed_workspace, owner
):
    preview, result = waiting
    invoice = result.invoice
    authenticate(waiting_charge(invoice).reference, success=True)
    client.force_login(owner.user)

    # Five hours later: the change is the one previewed at 09:00, not one computed now.
    with time_machine.travel(APRIL_1 + timedelta(hours=5), tick=False):
        response = client.post(auth_url(invoice))

    assert response.status_code == 302
    assert response["Location"] == reverse("subscription_billing", args=[billed_workspace.pk])
    assert flashed(response) == [french("Invoice %(number)s is paid.") % {"number": invoice.number}]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_cents, invoice.paid_at) == (
        InvoiceStatus.PAID,
        2_400,
        APRIL_1 + timedelta(hours=5),
    )
    subscription = Subscription.objects.select_related("plan").get(workspace=billed_workspace)
    assert (subscription.plan.code, subscription.status, subscription.current_period_end) == (
        "business",
        SubscriptionStatus.ACTIVE,
        preview.next_renewal_at,
    )
    assert subscription.current_period_end == at(2026, 4, 30, 22)
    assert PendingChange.objects.get(invoice=invoice).state == PendingChangeState.APPLIED
    assert charges_of(invoice) == [(1, "succeeded")]
    assert credit_summary(billed_workspace, now=APRIL_10).allowance == 50


def test_posting_the_page_twice_applies_the_change_once(client, waiting, billed_workspace, owner):
    _, result = waiting
    authenticate(waiting_charge(result.invoice).reference, success=True)
    client.force_login(owner.user)

    with time_machine.travel(APRIL_1 + timedelta(hours=1), tick=False):
        client.post(auth_url(result.invoice))
        again = client.post(auth_url(result.invoice))
        page = client.get(auth_url(result.invoice))

    assert again.status_code == 302
    assert Invoice.objects.filter(workspace=billed_workspace, status=InvoiceStatus.PAID).count() == 1
    assert Subscription.objects.get(workspace=billed_workspace).plan.code == "business"
    assert "data-client-secret" not in page.content.decode()
    assert french("Invoice %(number)s is not waiting for a confirmation.") % {
        "number": result.invoice.number
    } in page_text(page)


def test_a_failed_authentication_drops_the_change_and_voids_the_invoice(
    client, waiting, billed_workspace, owner
):
    _, result = waiting
    invoice = result.invoice
    authenticate(waiting_charge(invoice).reference, success=False)
    client.force_login(owner.user)

    with time_machine.travel(APRIL_1 + timedelta(hours=1), tick=False):
        response = client.post(auth_url(invoice))

    assert response.status_code == 302
    (message,) = flashed(response)
    assert french("The payment was not authenticated.") in message
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID
    note = Invoice.objects.get(corrects=invoice)
    assert (note.document_type, note.total_cents) == (DocumentType.CREDIT_NOTE, -2_400)
    assert _plan(billed_workspace) == ("free", SubscriptionStatus.ACTIVE)
    assert PendingChange.objects.get(invoice=invoice).state == PendingChangeState.LAPSED
    assert charges_of(invoice) == [(1, "failed")]
    assert Subscription.objects.get(workspace=billed_workspace).past_due_since is None


def test_posting_before_the_bank_answered_keeps_the_change_waiting(client, waiting, billed_workspace, owner):
    _, result = waiting
    client.force_login(owner.user)

    with time_machine.travel(APRIL_1 + timedelta(hours=1), tick=False):
        response = client.post(auth_url(result.invoice))

    assert flashed(response) == [french("The payment is still waiting for your bank's confirmation.")]
    assert PendingChange.objects.get(invoice=result.invoice).state == PendingChangeState.WAITING
    assert _plan(billed_workspace) == ("free", SubscriptionStatus.ACTIVE)


def test_an_upgrade_waits_then_applies_when_authenticated(client, billed_workspace, owner):
    subscribe(billed_workspace, owner, "business", now=APRIL_1)
    save_card(billed_workspace, owner, VISA_3DS, now=APRIL_1)
    enterprise = price_id("enterprise")
    preview = services.preview_change_plan(workspace=billed_workspace, price_id=enterprise, now=APRIL_10)
    with payer_emails_sent():
        result = services.apply_change_plan(
            workspace=billed_workspace, actor=owner, price_id=enterprise, preview=preview, now=APRIL_10
        )
    assert result.payment.requires_action
    assert _plan(billed_workspace) == ("business", SubscriptionStatus.ACTIVE)
    assert (result.invoice.status, result.invoice.total_cents) == (InvoiceStatus.OPEN, 1_680)

    authenticate(waiting_charge(result.invoice).reference, success=True)
    client.force_login(owner.user)
    with time_machine.travel(APRIL_10 + timedelta(minutes=10), tick=False):
        client.post(auth_url(result.invoice))

    result.invoice.refresh_from_db()
    assert result.invoice.status == InvoiceStatus.PAID
    assert _plan(billed_workspace) == ("enterprise", SubscriptionStatus.ACTIVE)
    assert credit_summary(billed_workspace, now=APRIL_10).allowance == 100


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER])
def test_other_roles_cannot_use_the_page(client, waiting, billed_workspace, role):
    _, result = waiting
    client.force_login(MembershipFactory(workspace=billed_workspace, role=role).user)

    assert client.get(auth_url(result.invoice)).status_code == 403
    assert client.post(auth_url(result.invoice)).status_code == 403


def test_another_workspaces_invoice_is_not_found(client, waiting, other_workspace):
    _, result = waiting
    outsider = other_workspace.memberships.get(role=Role.OWNER)
    client.force_login(outsider.user)

    assert client.get(auth_url(result.invoice)).status_code == 404
    own_url = reverse("stripe_charge_authenticate", args=[other_workspace.pk, result.invoice.pk])
    assert client.get(own_url).status_code == 404
    assert client.post(own_url).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, waiting):
    _, result = waiting

    response = client.get(auth_url(result.invoice))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- the 23-hour window ----------------------------------------------------------------------


def test_a_change_not_authenticated_in_23_hours_lapses_its_charge_cancelled(waiting, billed_workspace):
    _, result = waiting
    invoice = result.invoice
    reference = waiting_charge(invoice).reference

    run_billing_sweeps(now=WINDOW_END - timedelta(minutes=1))
    assert PendingChange.objects.get(invoice=invoice).state == PendingChangeState.WAITING
    assert intent(reference).status == "requires_action"

    run_billing_sweeps(now=WINDOW_END + timedelta(minutes=1))

    assert intent(reference).status == "canceled"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID
    note = Invoice.objects.get(corrects=invoice)
    assert (note.document_type, note.total_cents) == (DocumentType.CREDIT_NOTE, -2_400)
    assert _plan(billed_workspace) == ("free", SubscriptionStatus.ACTIVE)
    assert PendingChange.objects.get(invoice=invoice).state == PendingChangeState.LAPSED
    assert charges_of(invoice) == [(1, "canceled")]


def test_the_sweep_counts_the_changes_that_lapsed(waiting):
    early = run_billing_sweeps(now=WINDOW_END - timedelta(minutes=1))
    late = run_billing_sweeps(now=WINDOW_END + timedelta(minutes=1))

    assert (early["changes_lapsed"], late["changes_lapsed"]) == (0, 1)


def test_a_lapsed_change_records_why_it_was_not_made(waiting, billed_workspace):
    _, result = waiting

    run_billing_sweeps(now=WINDOW_END + timedelta(minutes=1))

    event = SubscriptionEvent.objects.get(workspace=billed_workspace, kind=EventKind.PAYMENT_FAILED)
    assert event.data["invoice"] == result.invoice.pk
    assert event.data["change_applied"] is False
    assert event.data["reason"] == french(
        "The payment was not authenticated in time; the change was not made."
    )


def test_a_change_authenticated_at_the_last_moment_is_applied_by_the_sweep(waiting, billed_workspace):
    _, result = waiting
    invoice = result.invoice
    authenticate(waiting_charge(invoice).reference, success=True)  # the page was never posted back

    summary = run_billing_sweeps(now=WINDOW_END + timedelta(minutes=1))

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert _plan(billed_workspace) == ("business", SubscriptionStatus.ACTIVE)
    assert PendingChange.objects.get(invoice=invoice).state == PendingChangeState.APPLIED
    assert summary["changes_lapsed"] == 0
    assert len(intents_for(invoice)) == 1


def test_an_upgrade_near_the_period_end_lapses_before_the_renewal(billed_workspace, owner):
    subscribe(billed_workspace, owner, "business", now=APRIL_1)
    save_card(billed_workspace, owner, VISA_3DS, now=APRIL_1)
    enterprise = price_id("enterprise")
    # Business renews on 1 May, midnight in Paris: 30 April at 22:00 UTC.
    now = at(2026, 4, 30, 12)
    preview = services.preview_change_plan(workspace=billed_workspace, price_id=enterprise, now=now)
    with payer_emails_sent():
        result = services.apply_change_plan(
            workspace=billed_workspace, actor=owner, price_id=enterprise, preview=preview, now=now
        )

    pending = PendingChange.objects.get(invoice=result.invoice)
    assert pending.lapses_at == at(2026, 4, 30, 22)

    run_billing_sweeps(now=at(2026, 4, 30, 22, 5))

    pending.refresh_from_db()
    assert pending.state == PendingChangeState.LAPSED
    # The renewal that follows is the plan's own, not the upgrade that never was paid.
    renewal = Invoice.objects.get(workspace=billed_workspace, source__startswith="renewal:")
    assert renewal.total_cents == 2_400
    assert _plan(billed_workspace)[0] == "business"


def test_the_customer_can_change_again_once_the_change_lapsed(waiting, billed_workspace, owner):
    run_billing_sweeps(now=WINDOW_END + timedelta(minutes=1))
    charges_before = Charge.objects.filter(workspace=billed_workspace).count()

    _preview, result = _subscribe_business(billed_workspace, owner, now=WINDOW_END + timedelta(hours=1))

    assert result.payment.requires_action
    assert Charge.objects.filter(workspace=billed_workspace).count() == charges_before + 1
    assert intent(waiting_charge(result.invoice).reference).amount == 2_400


# --- Stripe unreachable ----------------------------------------------------------------------


def test_a_confirmation_stripe_cannot_read_back_is_not_settled_and_can_be_tried_again(
    client, waiting, billed_workspace, owner, settings, monkeypatch
):
    _, result = waiting
    authenticate(waiting_charge(result.invoice).reference, success=True)
    client.force_login(owner.user)
    Network(settings, monkeypatch).down()

    with time_machine.travel(APRIL_1 + timedelta(hours=1), tick=False):
        response = client.post(auth_url(result.invoice))

    assert response.status_code == 302
    assert response["Location"] == auth_url(result.invoice)
    assert flashed(response) == ["Le paiement n'a pas pu être traité. Réessayez dans quelques minutes."]
    assert PendingChange.objects.get(invoice=result.invoice).state == PendingChangeState.WAITING
    assert _plan(billed_workspace) == ("free", SubscriptionStatus.ACTIVE)


def test_a_page_stripe_cannot_reach_does_not_claim_nothing_waits(
    client, waiting, owner, settings, monkeypatch
):
    _, result = waiting
    client.force_login(owner.user)
    Network(settings, monkeypatch).down()

    with time_machine.travel(APRIL_1 + timedelta(hours=1), tick=False):
        page = client.get(auth_url(result.invoice))

    text = page_text(page)
    assert "Le paiement n'a pas pu être traité. Réessayez dans quelques minutes." in text
    not_waiting = french("Invoice %(number)s is not waiting for a confirmation.") % {
        "number": result.invoice.number
    }
    assert not_waiting not in text, "the invoice does wait for a confirmation; only Stripe is out of reach"


# --- while a change waits ------------------------------------------------------------------


@pytest.fixture
def member_then_waiting(billed_workspace, owner):
    """A member on Free, then Business monthly subscribed on 1 April at 09:00 with a 3-D
    Secure card: the change bills the member's seat and waits."""
    member = MembershipFactory(workspace=billed_workspace, role=Role.MEMBER)
    save_card(billed_workspace, owner, VISA_3DS, now=APRIL_1)
    _, result = _subscribe_business(billed_workspace, owner)
    assert PendingChange.objects.get(invoice=result.invoice).state == PendingChangeState.WAITING
    return member, result


def test_a_licence_cannot_be_taken_away_while_the_change_that_bills_it_waits(
    client, member_then_waiting, billed_workspace, owner
):
    from teams import services as teams

    member, result = member_then_waiting
    later = APRIL_1 + timedelta(hours=1)

    with pytest.raises(errors.PaymentAwaitingAuthentication):
        teams.membership_change_role(membership=member, actor=owner, role=Role.GUEST, now=later)
    with pytest.raises(errors.PaymentAwaitingAuthentication):
        teams.member_remove(workspace=billed_workspace, actor=owner, membership=member, now=later)

    member.refresh_from_db()
    assert member.role == Role.MEMBER
    # Authenticated, the change applies with the seat it billed; the member can then go.
    authenticate(waiting_charge(result.invoice).reference, success=True)
    client.force_login(owner.user)
    with time_machine.travel(later, tick=False):
        client.post(auth_url(result.invoice))
    assert _plan(billed_workspace) == ("business", SubscriptionStatus.ACTIVE)
    teams.membership_change_role(membership=member, actor=owner, role=Role.GUEST, now=later)
    member.refresh_from_db()
    assert member.role == Role.GUEST


def test_a_change_authenticated_the_next_billing_day_keeps_the_dates_it_was_paid_for(
    client, waiting, billed_workspace, owner
):
    """Subscribed on 1 April at 11:00 in Paris, authenticated on 2 April at 09:00 in Paris:
    the month paid for runs from 1 April, as previewed and invoiced."""
    preview, result = waiting
    authenticate(waiting_charge(result.invoice).reference, success=True)
    client.force_login(owner.user)

    with time_machine.travel(at(2026, 4, 2, 7), tick=False):
        client.post(auth_url(result.invoice))

    subscription = Subscription.objects.get(workspace=billed_workspace)
    assert (subscription.current_period_start, subscription.current_period_end) == (
        at(2026, 3, 31, 22),
        at(2026, 4, 30, 22),
    )
    assert preview.next_renewal_at == at(2026, 4, 30, 22)
    result.invoice.refresh_from_db()
    assert (result.invoice.status, result.invoice.total_cents) == (InvoiceStatus.PAID, 2_400)


def test_leaving_free_near_the_end_of_its_month_still_waits_23_hours(billed_workspace, owner):
    """Free's month ends; a subscription from Free starts a period of its own, so its
    payment has its whole 23 hours to be authenticated."""
    free_end = Subscription.objects.get(workspace=billed_workspace).current_period_end
    assert free_end is not None
    now = free_end - timedelta(hours=1)
    save_card(billed_workspace, owner, VISA_3DS, now=now)
    _, result = _subscribe_business(billed_workspace, owner, now=now)

    pending = PendingChange.objects.get(invoice=result.invoice)
    assert pending.lapses_at == now + timedelta(hours=23)
    run_billing_sweeps(now=free_end + timedelta(minutes=5))
    pending.refresh_from_db()
    assert pending.state == PendingChangeState.WAITING


def test_a_new_card_pays_the_waiting_change_in_place_of_the_authentication(waiting, billed_workspace, owner):
    """The payer gives up on the bank's check and saves another card: the waiting charge is
    cancelled, the new card charged as the next attempt, and the change applied."""
    _, result = waiting
    invoice = result.invoice
    first = waiting_charge(invoice).reference

    saved = save_card(billed_workspace, owner, VISA_OK, now=APRIL_1 + timedelta(hours=2))

    assert saved.paid == 1
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_cents) == (InvoiceStatus.PAID, 2_400)
    assert charges_of(invoice) == [(1, "canceled"), (2, "succeeded")]
    assert intent(first).status == "canceled"
    assert _plan(billed_workspace) == ("business", SubscriptionStatus.ACTIVE)
    assert PendingChange.objects.get(invoice=invoice).state == PendingChangeState.APPLIED
