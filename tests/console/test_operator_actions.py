"""Operators' actions on the workspace page (docs/rules/operators.md): each goes through
the customer's service, needs a reason and a confirmation showing the money or credits
moved, is allowed by the operator's group only, and leaves an audit entry."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from audit.models import ActorKind, AuditEntry, Kind
from console.groups import operator_add
from credits.models import CreditBalance
from gateways.stripe.client import client as stripe_client
from invoices.models import Charge, DocumentType, Invoice, InvoiceStatus
from invoices.selectors import account_balance_cents
from invoices.services import invoice_receipt_send
from subscriptions.models import Price, Subscription
from tests.factories import InvoiceFactory, UserFactory, plan_line, subscribe
from tests.subscriptions.conftest import at, save_card

pytestmark = pytest.mark.django_db


def _operator(client, group: str):
    user = UserFactory(email=f"{group}@ops.test")
    operator_add(email=user.email, group=group)
    client.force_login(user)
    return user


@pytest.fixture
def finance(client):
    return _operator(client, "finance")


@pytest.fixture
def support(client):
    return _operator(client, "support")


@pytest.fixture
def paid(billed_workspace, owner):
    """Business monthly: 20,00 € + 20 % VAT = 24,00 € charged by card on 1 March."""
    invoice = subscribe(billed_workspace, owner, "business", now=at(2026, 3, 1, 9)).invoice
    assert (invoice.status, invoice.amount_due_cents) == (InvoiceStatus.PAID, 2_400)
    return invoice


@pytest.fixture
def open_invoice(billed_workspace):
    """240,00 € + 20 % VAT, issued and not paid yet."""
    invoice = InvoiceFactory(workspace=billed_workspace, lines=[plan_line()], issued_at=at(2026, 3, 10))
    assert (invoice.status, invoice.amount_due_cents) == (InvoiceStatus.OPEN, 28_800)
    return invoice


def _url(workspace, action, invoice=None):
    url = reverse("admin:workspaces_workspace_operate", args=[workspace.pk, action])
    return f"{url}?invoice={invoice.pk}" if invoice is not None else url


def _preview_then_confirm(client, url, data):
    preview = client.post(url, data)
    assert preview.status_code == 200, preview.content.decode()[-2000:]
    html = preview.content.decode()
    assert 'name="confirm"' in html
    confirmation = html.split('name="confirmation" value="')[1].split('"')[0]
    done = client.post(url, {**data, "confirm": "1", "confirmation": confirmation})
    assert done.status_code == 302, done.content.decode()[-2000:]
    return html


def _entries(workspace):
    return list(AuditEntry.objects.filter(workspace=workspace, actor_kind=ActorKind.OPERATOR).order_by("id"))


def test_finance_refunds_half_an_invoice_through_stripe_with_a_credit_note_and_an_entry(
    client, finance, paid
):
    workspace = paid.workspace

    preview = _preview_then_confirm(
        client, _url(workspace, "refund", paid), {"amount": "12,00", "reason": "Panne du 28 février"}
    )

    assert "24,00\u00a0€" in preview
    assert "12,00\u00a0€" in preview
    note = Invoice.objects.get(corrects=paid)
    assert (note.document_type, note.total_cents, note.status) == (
        DocumentType.CREDIT_NOTE, -1_200, InvoiceStatus.REFUNDED,
    )  # fmt: skip
    charge = Charge.objects.get(invoice=paid)
    assert charge.refunded_cents == 1_200
    intent = stripe_client().v1.payment_intents.retrieve(charge.reference)
    latest = intent.latest_charge
    stripe_charge = stripe_client().v1.charges.retrieve(latest if isinstance(latest, str) else latest["id"])
    assert stripe_charge.amount_refunded == 1_200
    [entry] = _entries(workspace)
    assert (entry.kind, entry.actor_id, entry.reason, entry.object_repr) == (
        Kind.INVOICE_REFUNDED, finance.pk, "Panne du 28 février", paid.number,
    )  # fmt: skip
    assert entry.after == {"refunded_cents": 1_200, "amount_cents": 1_200, "credit_note": note.number,
                           "currency": "EUR"}  # fmt: skip
    assert entry.ip_address == "127.0.0.1"


def test_support_is_refused_a_refund_and_nothing_moves(client, support, paid):
    url = _url(paid.workspace, "refund", paid)

    assert client.get(url).status_code == 403
    refused = client.post(url, {"amount": "12,00", "reason": "x", "confirm": "1"})

    assert refused.status_code == 403
    assert "ne permet pas" in refused.content.decode()
    assert Charge.objects.get(invoice=paid).refunded_cents == 0
    assert not Invoice.objects.filter(corrects=paid).exists()
    assert _entries(paid.workspace) == []


def test_a_refund_without_a_reason_or_above_what_was_paid_changes_nothing(client, finance, paid):
    url = _url(paid.workspace, "refund", paid)

    blank = client.post(url, {"amount": "12,00", "reason": "  ", "confirm": "1"})
    too_much = client.post(url, {"amount": "24,01", "reason": "geste", "confirm": "1"})

    assert (blank.status_code, too_much.status_code) == (400, 400)
    assert Charge.objects.get(invoice=paid).refunded_cents == 0
    assert not Invoice.objects.filter(corrects=paid).exists()
    assert _entries(paid.workspace) == []


def test_support_grants_credits_up_to_the_limit_and_finance_beyond(client, billed_workspace, settings):
    settings.OPERATOR_SUPPORT_CREDIT_LIMIT = 1_000
    start = 10  # Free's allowance (docs/rules/plans.md)
    support_user = _operator(client, "support")

    _preview_then_confirm(client, _url(billed_workspace, "credits"), {"credits": "500", "reason": "Bug API"})
    over = client.post(
        _url(billed_workspace, "credits"), {"credits": "1001", "reason": "Bug API", "confirm": "1"}
    )
    assert over.status_code == 403
    finance_user = _operator(client, "finance")
    _preview_then_confirm(
        client, _url(billed_workspace, "credits"), {"credits": "1500", "reason": "Incident"}
    )

    assert CreditBalance.objects.get(workspace=billed_workspace).balance == start + 500 + 1_500
    first, second = _entries(billed_workspace)
    assert (first.actor_id, first.before, first.after) == (
        support_user.pk, {"balance": start}, {"balance": start + 500, "adjustment": 500},
    )  # fmt: skip
    assert (second.actor_id, second.reason, second.after["adjustment"]) == (
        finance_user.pk,
        "Incident",
        1_500,
    )


def test_finance_credits_the_account_balance_and_takes_back_what_it_holds(client, finance, billed_workspace):
    url = _url(billed_workspace, "balance")
    preview = _preview_then_confirm(
        client, url, {"direction": "credit", "amount": "10,50", "reason": "Remise commerciale"}
    )
    assert "10,50\u00a0€" in preview
    assert account_balance_cents(billed_workspace) == 1_050

    preview = _preview_then_confirm(
        client, url, {"direction": "debit", "amount": "4,00", "reason": "Remise saisie en double"}
    )
    assert "Repris" in preview
    assert "6,50\u00a0€" in preview
    assert account_balance_cents(billed_workspace) == 650
    credit, debit = _entries(billed_workspace)
    assert (credit.kind, credit.before, credit.after) == (
        Kind.BALANCE_ADJUSTED, {"balance_cents": 0, "currency": "EUR"},
        {"balance_cents": 1_050, "adjustment_cents": 1_050, "currency": "EUR"},
    )  # fmt: skip
    assert (debit.before, debit.after, debit.reason) == (
        {"balance_cents": 1_050, "currency": "EUR"},
        {"balance_cents": 650, "adjustment_cents": -400, "currency": "EUR"},
        "Remise saisie en double",
    )


def test_taking_back_more_than_the_balance_holds_is_refused_and_changes_nothing(
    client, finance, billed_workspace
):
    url = _url(billed_workspace, "balance")
    _preview_then_confirm(
        client, url, {"direction": "credit", "amount": "5,00", "reason": "Geste commercial"}
    )
    data = {"direction": "debit", "amount": "5,01", "reason": "Correction", "confirm": "1"}

    refused = client.post(url, data)

    assert refused.status_code == 400
    assert "Le solde du compte contient moins que ce montant" in refused.content.decode()
    assert account_balance_cents(billed_workspace) == 500
    assert len(_entries(billed_workspace)) == 1


def test_support_extends_a_trial_with_a_reason_and_the_first_charge_moves(
    client, support, billed_workspace, owner
):
    with time_machine.travel(at(2026, 4, 1, 9), tick=False):
        subscribe(billed_workspace, owner, "business", trial=True, now=at(2026, 4, 1, 9))
    page = client.get(reverse("admin:workspaces_workspace_change", args=[billed_workspace.pk]))
    assert 'id="action-trial"' in page.content.decode()
    url = _url(billed_workspace, "trial")

    with time_machine.travel(at(2026, 4, 10, 9), tick=False):
        preview = _preview_then_confirm(client, url, {"days": "7", "reason": "Évaluation prolongée"})

    assert "15 avril 2026" in preview
    assert "22 avril 2026" in preview
    subscription = Subscription.objects.get(workspace=billed_workspace)
    assert subscription.trial_end.date().isoformat() == "2026-04-21"  # 22 April, Paris midnight
    assert not Invoice.objects.filter(workspace=billed_workspace).exists()
    [entry] = _entries(billed_workspace)
    assert (entry.kind, entry.actor_id, entry.reason) == (
        Kind.TRIAL_EXTENDED,
        support.pk,
        "Évaluation prolongée",
    )


def test_a_subscription_that_is_not_in_a_trial_is_not_extended(client, support, paid):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        refused = client.post(_url(paid.workspace, "trial"), {"days": "7", "reason": "Geste"})

    assert refused.status_code == 400
    assert "Cet abonnement n" in refused.content.decode()
    assert _entries(paid.workspace) == []


@pytest.mark.parametrize("days", ["0", "91", "sept"])
def test_a_trial_is_extended_by_1_to_90_days(client, support, billed_workspace, owner, days):
    subscribe(billed_workspace, owner, "business", trial=True, now=at(2026, 4, 1, 9))
    before = Subscription.objects.get(workspace=billed_workspace).trial_end
    with time_machine.travel(at(2026, 4, 10, 9), tick=False):
        refused = client.post(
            _url(billed_workspace, "trial"), {"days": days, "reason": "Geste", "confirm": "1"}
        )
    assert refused.status_code == 400
    assert Subscription.objects.get(workspace=billed_workspace).trial_end == before
    assert _entries(billed_workspace) == []


def test_an_out_of_band_payment_is_recorded_with_its_reference_by_finance_only(client, open_invoice):
    _operator(client, "support")
    url = _url(open_invoice.workspace, "record_payment", open_invoice)
    assert client.post(url, {"reference": "VIR-0310", "reason": "x", "confirm": "1"}).status_code == 403
    finance_user = _operator(client, "finance")

    preview = _preview_then_confirm(
        client, url, {"reference": "VIR-0310", "reason": "Virement reçu le 12/03"}
    )

    assert "288,00\u00a0€" in preview
    open_invoice.refresh_from_db()
    assert (open_invoice.status, open_invoice.payment_reference) == (InvoiceStatus.PAID, "VIR-0310")
    [entry] = _entries(open_invoice.workspace)
    assert (entry.kind, entry.actor_id, entry.before, entry.after["reference"]) == (
        Kind.INVOICE_PAID_OUT_OF_BAND, finance_user.pk, {"status": "open"}, "VIR-0310",
    )  # fmt: skip


def test_finance_voids_an_open_invoice(client, finance, open_invoice):
    _preview_then_confirm(client, _url(open_invoice.workspace, "void", open_invoice), {"reason": "Doublon"})

    open_invoice.refresh_from_db()
    assert open_invoice.status == InvoiceStatus.VOID
    [entry] = _entries(open_invoice.workspace)
    assert (entry.kind, entry.before, entry.after, entry.reason) == (
        Kind.INVOICE_VOIDED, {"status": "open"}, {"status": "void"}, "Doublon",
    )  # fmt: skip


def test_finance_retries_a_charge_now_with_the_card_on_file(client, finance, billed_workspace, owner):
    save_card(billed_workspace, owner)  # before the invoice: a new card would pay it at once
    open_invoice = InvoiceFactory(workspace=billed_workspace, lines=[plan_line()], issued_at=at(2026, 3, 10))
    assert open_invoice.status == InvoiceStatus.OPEN

    preview = _preview_then_confirm(
        client, _url(open_invoice.workspace, "retry", open_invoice), {"reason": "Carte mise à jour"}
    )

    assert "288,00\u00a0€" in preview
    open_invoice.refresh_from_db()
    assert open_invoice.status == InvoiceStatus.PAID
    [entry] = _entries(open_invoice.workspace)
    assert (entry.kind, entry.after["paid"], entry.after["amount_cents"]) == (
        Kind.CHARGE_RETRIED,
        True,
        28_800,
    )


def test_finance_cancels_on_the_customers_behalf_through_the_lifecycle(client, finance, paid):
    workspace = paid.workspace

    _preview_then_confirm(
        client, _url(workspace, "subscription"), {"action": "cancel", "reason": "Demande par téléphone"}
    )

    subscription = Subscription.objects.get(workspace=workspace)
    assert (subscription.auto_renew, subscription.cancel_reason, subscription.cancel_comment) == (
        False, "other", "Demande par téléphone",
    )  # fmt: skip
    [entry] = _entries(workspace)
    assert (entry.kind, entry.object_repr, entry.actor_id, entry.reason) == (
        Kind.SUBSCRIPTION_CHANGED, "cancel", finance.pk, "Demande par téléphone",
    )  # fmt: skip
    assert (entry.before["auto_renew"], entry.after["auto_renew"]) == (True, False)


def test_support_cannot_change_a_subscription(client, support, paid):
    url = _url(paid.workspace, "subscription")

    assert client.post(url, {"action": "expire", "reason": "x"}).status_code == 403
    assert Subscription.objects.get(workspace=paid.workspace).plan.code == "business"


def test_support_sends_a_paid_invoices_receipt_again(client, support, paid, mailoutbox):
    invoice_receipt_send(invoice=paid, now=at(2026, 3, 1, 10))  # the first time, once paid
    assert invoice_receipt_send(invoice=paid, now=at(2026, 3, 2)) is False  # once per paid invoice
    mailoutbox.clear()

    preview = _preview_then_confirm(client, _url(paid.workspace, "receipt", paid), {"reason": "Reçu perdu"})

    assert paid.workspace.memberships.get(role="owner").user.email in preview
    [receipt] = [m for m in mailoutbox if "Reçu de paiement" in m.subject]
    assert paid.number in receipt.subject
    [entry] = _entries(paid.workspace)
    assert (entry.kind, entry.actor_id, entry.reason, entry.after["sent"]) == (
        Kind.RECEIPT_RESENT, support.pk, "Reçu perdu", True,
    )  # fmt: skip


def test_an_unpaid_invoice_has_no_receipt_to_send(client, support, open_invoice, mailoutbox):
    refused = client.post(
        _url(open_invoice.workspace, "receipt", open_invoice), {"reason": "x", "confirm": "1"}
    )

    assert refused.status_code == 400
    assert "Seule une facture payée a un reçu." in refused.content.decode()
    assert mailoutbox == []
    assert _entries(open_invoice.workspace) == []


def test_finance_changes_the_plan_reactivates_and_expires_on_the_customers_behalf(
    client, finance, paid, settings
):
    settings.STAFF_SESSION_IDLE_SECONDS = 7 * 24 * 3600  # one session across the days below
    workspace = paid.workspace
    enterprise = Price.objects.get(plan__code="enterprise", interval="month", currency="EUR", is_active=True)
    url = _url(workspace, "subscription")

    with time_machine.travel(at(2026, 3, 1, 10), tick=False):
        preview = _preview_then_confirm(
            client, url, {"action": "change_plan", "price": str(enterprise.pk), "reason": "Upgrade demandé"}
        )
    assert "Enterprise" in preview
    assert Subscription.objects.get(workspace=workspace).plan.code == "enterprise"
    with time_machine.travel(at(2026, 3, 2), tick=False):
        _preview_then_confirm(client, url, {"action": "cancel", "reason": "Fermeture"})
        _preview_then_confirm(client, url, {"action": "reactivate", "reason": "Erreur de résiliation"})
    assert Subscription.objects.get(workspace=workspace).auto_renew is True
    with time_machine.travel(at(2026, 3, 3), tick=False):
        _preview_then_confirm(client, url, {"action": "expire", "reason": "Fraude avérée"})

    assert Subscription.objects.get(workspace=workspace).plan.code == "free"
    entries = _entries(workspace)
    assert [(e.object_repr, e.reason, e.actor_id) for e in entries] == [
        ("change_plan", "Upgrade demandé", finance.pk),
        ("cancel", "Fermeture", finance.pk),
        ("reactivate", "Erreur de résiliation", finance.pk),
        ("expire", "Fraude avérée", finance.pk),
    ]
    assert (entries[0].before["plan"], entries[0].after["plan"]) == ("business", "enterprise")
    assert (entries[3].before["plan"], entries[3].after["plan"]) == ("enterprise", "free")
