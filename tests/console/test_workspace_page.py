"""The operators' workspace page and search (docs/rules/operators.md#workspace-page), the
two staff groups and their command, and the admin's read-only rows."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEntry
from gateways.stripe.models import StripeCustomer
from invoices.models import Charge, Invoice, InvoiceStatus
from subscriptions.models import Subscription
from tests.factories import (
    InvitationFactory,
    MembershipFactory,
    SubscriptionAddOnFactory,
    UserFactory,
    subscribe,
)
from tests.subscriptions.conftest import at
from workspaces.formatting import format_money
from workspaces.models import Membership, Role, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(billed_workspace, owner, other_billed):
    MembershipFactory(workspace=billed_workspace, role=Role.MEMBER, user=UserFactory(email="zoe@acme.test"))
    invoice = subscribe(billed_workspace, owner, "business", now=at(2026, 3, 1, 9)).invoice
    assert (invoice.status, invoice.amount_due_cents) == (
        InvoiceStatus.PAID,
        4_800,
    )  # Business, 2 seats × 20,00 € + 20 % VAT
    return invoice


def _login_operator(client, group: str):
    user = UserFactory(email=f"{group}@ops.test")
    call_command("operator_add", user.email, "--group", group)
    client.force_login(user)
    return user


def test_the_migration_creates_both_groups_and_the_command_adds_an_operator(db):
    user = UserFactory(email="nina@ops.test")

    call_command("operator_add", "NINA@ops.test", "--group", "support")

    assert set(Group.objects.values_list("name", flat=True)) >= {"support", "finance"}
    user.refresh_from_db()
    assert user.is_staff
    assert not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["support"]
    assert user.has_perm("invoices.view_invoice")
    assert not user.has_perm("invoices.change_invoice")
    with pytest.raises(CommandError, match="No user"):
        call_command("operator_add", "nobody@ops.test", "--group", "finance")


@pytest.mark.parametrize(
    "query",
    ["zoe@acme.test", "Acme", "invoice", "customer", "intent"],
)
def test_an_operator_finds_the_workspace_by_member_name_invoice_or_stripe_ids(client, paid, query):
    _login_operator(client, "support")
    workspace = paid.workspace
    other = Workspace.objects.exclude(pk=workspace.pk).get()
    if query == "invoice":
        query = paid.number
    if query == "customer":
        query = StripeCustomer.objects.get(workspace=workspace).customer_id
    if query == "intent":
        query = Charge.objects.get(invoice=paid).reference

    listing = client.get(reverse("admin:workspaces_workspace_changelist"), {"q": query})

    assert listing.status_code == 200
    html = listing.content.decode()
    assert str(workspace.pk) in html
    assert str(other.pk) not in html


def test_the_workspace_page_shows_everything_as_money_and_only_the_groups_actions(client, paid):
    _login_operator(client, "support")
    url = reverse("admin:workspaces_workspace_change", args=[paid.workspace_id])

    support_page = client.get(url).content.decode()
    _login_operator(client, "finance")
    finance_page = client.get(url).content.decode()

    for section in ("Abonnement", "Historique de l’abonnement", "Factures et avoirs", "Paiements",
                    "Événements Stripe", "Grand livre", "Solde du compte", "Journal d’audit"):  # fmt: skip
        assert section in support_page
    assert "Business" in support_page
    assert "zoe@acme.test" in support_page
    assert "48,00\u00a0€" in support_page  # the invoice and its payment, as money
    assert "Ajuster les crédits" in support_page
    assert "Rembourser" not in support_page
    assert "Modifier l’abonnement" not in support_page
    assert "Rembourser" in finance_page
    assert "Modifier l’abonnement" in finance_page


def test_the_ledger_on_the_page_is_filtered_by_kind(client, paid):
    _login_operator(client, "support")
    url = reverse("admin:workspaces_workspace_change", args=[paid.workspace_id])

    grants = client.get(url, {"ledger_kind": "grant"}).content.decode().split('id="ledger"')[1]
    consumption = client.get(url, {"ledger_kind": "consume"}).content.decode().split('id="ledger"')[1]

    assert "<td>Attribution</td>" in grants.split("</table>")[0]
    assert "Attribution" not in consumption.split("</table>")[0]  # nothing consumed yet
    assert '<td colspan="6">—</td>' in consumption.split("</table>")[0]


def test_members_roles_invitations_and_workspaces_are_read_only_in_the_admin(client, paid, owner):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    workspace = paid.workspace
    invitation = InvitationFactory(workspace=workspace, email="new@acme.test", role=Role.MEMBER)

    page = client.get(reverse("admin:workspaces_workspace_change", args=[workspace.pk])).content.decode()
    change = client.post(
        reverse("admin:workspaces_workspace_change", args=[workspace.pk]),
        {"name": "Renamed", "memberships-0-role": "guest"},
    )
    invitation_page = client.get(reverse("admin:workspaces_invitation_change", args=[invitation.pk]))

    assert 'name="_save"' not in page
    assert 'name="memberships-0-role"' not in page
    assert change.status_code == 403
    workspace.refresh_from_db()
    assert workspace.name == "Acme Test"
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER
    assert client.get(reverse("admin:workspaces_workspace_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:workspaces_workspace_delete", args=[workspace.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert 'name="_save"' not in invitation_page.content.decode()
    assert client.get(reverse("admin:workspaces_invitation_add")).status_code == 403


def test_invoices_and_the_account_balance_are_listed_as_money_in_french(client, paid):
    _login_operator(client, "support")

    invoices = client.get(reverse("admin:invoices_invoice_changelist")).content.decode()
    balance = client.get(reverse("admin:invoices_accountbalanceentry_changelist"))

    assert "Montant dû" in invoices
    assert "48,00\u00a0€" in invoices
    assert balance.status_code == 200


def test_a_subscription_and_its_add_ons_are_read_only_in_the_admin(client, paid):
    subscription = Subscription.objects.get(workspace=paid.workspace)
    addon = SubscriptionAddOnFactory(subscription=subscription)
    url = reverse("admin:subscriptions_subscription_change", args=[subscription.pk])
    form = {
        "status": "expired", "channel": "mobile",
        "addons-TOTAL_FORMS": "1", "addons-INITIAL_FORMS": "1", "addons-MIN_NUM_FORMS": "0",
        "addons-MAX_NUM_FORMS": "1000", "addons-0-id": str(addon.pk), "addons-0-subscription": str(subscription.pk),
        "addons-0-addon": str(addon.addon_id), "addons-0-quantity": "2",
        "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0", "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "0",
    }  # fmt: skip
    for group in ("support", "finance"):
        _login_operator(client, group)
        page = client.get(url)
        assert page.status_code == 200
        assert 'name="addons-0-quantity"' not in page.content.decode()
        assert 'name="status"' not in page.content.decode()
        assert client.post(url, form).status_code == 403

    subscription.refresh_from_db()
    addon.refresh_from_db()
    assert (subscription.status, subscription.channel, addon.quantity) == ("active", "web", 1)
    assert not AuditEntry.objects.filter(workspace=paid.workspace, actor_kind="operator").exists()


def test_finance_sets_add_ons_and_extra_seats_through_the_customization_with_a_reason(client, paid):
    workspace = paid.workspace
    finance = _login_operator(client, "finance")
    url = reverse("admin:workspaces_workspace_operate", args=[workspace.pk, "subscription"])
    data = {"action": "customize", "addon_ai-credits": "1", "extra_seats": "", "reason": "Demande du client"}

    with time_machine.travel(at(2026, 3, 17, 9), tick=False):
        preview = client.post(url, data)
        html = preview.content.decode()
        confirmation = html.split('name="confirmation" value="')[1].split('"')[0]
        done = client.post(url, {**data, "confirm": "1", "confirmation": confirmation})

    assert preview.status_code == 200
    assert "ai-credits" in html
    assert "0 → 1" in html
    assert "15/31" in html  # the add-on prorated to the end of the month paid for
    assert done.status_code == 302, done.content.decode()[-1500:]
    subscription = Subscription.objects.get(workspace=workspace)
    assert [(a.addon.code, a.quantity) for a in subscription.addons.all()] == [("ai-credits", 1)]
    assert subscription.extra_seats == 0
    invoice = Invoice.objects.filter(workspace=workspace).latest("id")
    assert invoice.status == InvoiceStatus.PAID
    assert format_money(invoice.amount_due_cents, "EUR", "fr") in html  # charged now, as previewed
    entry = AuditEntry.objects.get(workspace=workspace, actor_kind="operator")
    assert (entry.kind, entry.actor_id, entry.reason, entry.object_repr) == (
        "subscription.changed", finance.pk, "Demande du client", "customize",
    )  # fmt: skip


def test_the_admin_speaks_french_with_money_in_its_lists(client, paid):
    _login_operator(client, "finance")

    index = client.get(reverse("admin:index")).content.decode()
    charges = client.get(reverse("admin:invoices_charge_changelist")).content.decode()
    prices = client.get(reverse("admin:subscriptions_price_changelist")).content.decode()
    seats = client.get(reverse("admin:teams_seat_changelist")).content.decode()

    assert "Opérateurs SeatCredit" in index
    assert "48,00\u00a0€" in charges  # the Business payment
    assert "20,00\u00a0€" in prices  # Business, per seat
    assert "20,00\u00a0€" in seats
