"""Who receives billing emails (docs/rules/roles.md#billing-contacts): the owner, every
admin, every billing admin and the workspace's billing email, one copy per address."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail

from billing import notifications
from billing import services as billing
from credits import notifications as credit_notifications
from credits.models import CreditNotice
from invoices import services as invoice_services
from subscriptions.models import PaymentMethod
from tests.factories import InvoiceFactory, MembershipFactory, UserFactory, subscribe
from workspaces.models import Role
from workspaces.selectors import billing_contacts

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """The receipt's stored PDF goes to a per-test folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def team(workspace, owner):
    """Every role once, a second billing admin, and a billing email that repeats the first
    billing admin's address in other letters."""
    people = {
        role: MembershipFactory(workspace=workspace, role=role) for role in Role.values if role != Role.OWNER
    }
    people[Role.OWNER] = owner
    people[Role.BILLING_ADMIN].user = UserFactory(email="compta@acme.test")
    people[Role.BILLING_ADMIN].save()
    MembershipFactory(workspace=workspace, role=Role.BILLING_ADMIN, user=UserFactory(email="paie@acme.test"))
    workspace.billing_email = "Compta@Acme.test"
    workspace.save()
    return people


def _expected(people) -> list[str]:
    owner, admin = people[Role.OWNER].user.email, people[Role.ADMIN].user.email
    return sorted([owner, admin, "compta@acme.test", "paie@acme.test"], key=str.lower)


def test_billing_contacts_are_the_owner_the_admins_the_billing_admins_and_the_billing_email_once(
    workspace, team
):
    contacts = billing_contacts(workspace)

    assert [c.lower() for c in contacts] == [c.lower() for c in _expected(team)]
    assert team[Role.MEMBER].user.email not in contacts
    assert team[Role.GUEST].user.email not in contacts
    assert team[Role.VISITOR].user.email not in contacts


def test_a_billing_admin_is_a_billing_contact_even_without_a_billing_email(workspace, owner):
    billing_admin = MembershipFactory(workspace=workspace, role=Role.BILLING_ADMIN)

    assert billing_contacts(workspace) == sorted([owner.user.email, billing_admin.user.email], key=str.lower)


def _receipt(workspace):
    invoice = InvoiceFactory(workspace=workspace, issued_at=NOW)
    paid = billing.invoice_pay(invoice=invoice, now=NOW, payment_reference="local_ch_1")
    mail.outbox.clear()
    assert invoice_services.invoice_receipt_send(invoice=paid, now=NOW)


def _payment_failed(workspace):
    invoice = InvoiceFactory(workspace=workspace, issued_at=NOW)
    notifications.send_payment_failed(
        workspace=workspace, invoice=invoice, next_attempt_at=NOW + timedelta(days=1), reason="Refusée."
    )


def _payment_action_required(workspace):
    invoice = InvoiceFactory(workspace=workspace, issued_at=NOW)
    notifications.send_payment_action_required(
        workspace=workspace, invoice=invoice, lapses_at=NOW + timedelta(days=1)
    )


def _card_expiring(workspace):
    card = PaymentMethod(workspace=workspace, brand="visa", last4="4242", exp_month=4, exp_year=2026)
    notifications.send_card_expiring(workspace=workspace, method=card)


def _subscription_expired(workspace):
    notifications.send_subscription_expired(workspace=workspace, plan_name="Business")


def _trial_ending(workspace):
    subscription = subscribe(workspace, plan="business", trial=True, now=NOW).subscription
    mail.outbox.clear()
    notifications.send_trial_ending(subscription=subscription)


def _credit_alert(workspace):
    notice = CreditNotice.objects.create(workspace=workspace, period_start=date(2026, 3, 1), threshold=80)
    credit_notifications.notice_send(notice_id=notice.pk)


@pytest.mark.parametrize(
    "send",
    [
        _receipt,
        _payment_failed,
        _payment_action_required,
        _card_expiring,
        _subscription_expired,
        _trial_ending,
        _credit_alert,
    ],
    ids=lambda send: send.__name__.strip("_"),
)
def test_every_billing_email_reaches_the_billing_admin_with_the_owner_admins_and_billing_email_once(
    workspace, team, send, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        send(workspace)

    [email] = mail.outbox
    assert sorted(email.to, key=str.lower) == billing_contacts(workspace)
    assert sorted(address.lower() for address in email.to) == [a.lower() for a in _expected(team)]
    assert team[Role.MEMBER].user.email not in email.to
