"""Operators in the admin, in Chromium (docs/rules/operators.md): a finance operator signs in
with a password and a TOTP code, finds a workspace by a member's email, refunds half an
invoice (a credit note is issued, the offline Stripe refunds the card, the audit trail
keeps the reason); a support operator is refused a refund, and extends a trial."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.utils import timezone

from audit.models import ActorKind, AuditEntry, Kind
from console.groups import operator_add
from gateways.stripe.client import client as stripe_client
from invoices.models import Charge, DocumentType, Invoice, InvoiceStatus
from subscriptions.models import Subscription
from tests.browser.conftest import ARTIFACTS
from tests.factories import PASSWORD, MembershipFactory, UserFactory, subscribe
from workspaces.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme():
    """Acme on Business monthly, paid by card: 2 seats × 20,00 € + 20 % VAT = 48,00 €."""
    owner = MembershipFactory(
        role=Role.OWNER, workspace__name="Acme", user=UserFactory(email="owner@acme.test")
    )
    MembershipFactory(workspace=owner.workspace, role=Role.MEMBER, user=UserFactory(email="zoe@acme.test"))
    invoice = subscribe(owner.workspace, owner, "business", now=timezone.now()).invoice
    assert (invoice.status, invoice.amount_due_cents) == (InvoiceStatus.PAID, 4_800)
    other = MembershipFactory(role=Role.OWNER, workspace__name="Other Corp")
    subscribe(other.workspace, other, "business", now=timezone.now())
    return invoice


def _operator(email: str, group: str) -> str:
    user = UserFactory(email=email)
    operator_add(email=email, group=group)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _sign_in_with_totp(page, email: str, secret: str) -> None:
    page.goto("/admin/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.fill("input[name=code]", format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
    page.click("form [type=submit]")
    page.wait_for_url("**/admin/")


def test_a_finance_operator_with_totp_refunds_half_an_invoice(page, settings, acme):
    settings.ADMIN_REQUIRE_MFA = True
    secret = _operator("finance@ops.test", "finance")

    _sign_in_with_totp(page, "finance@ops.test", secret)
    page.goto("/admin/workspaces/workspace/")
    page.fill("#searchbar", "zoe@acme.test")
    page.press("#searchbar", "Enter")
    page.get_by_role("link", name="Acme").click()
    page.locator(f"#invoice-{acme.number}").get_by_role("link", name="Rembourser").click()
    page.fill("input[name=amount]", "24,00")
    page.fill("textarea[name=reason]", "Panne de 3 jours, geste commercial")
    page.click("input[name=_preview]")
    preview = page.locator("#preview").inner_text()
    assert "48,00\u00a0€" in preview  # paid by card
    assert "24,00\u00a0€" in preview  # refunded now, and left after
    page.screenshot(path=str(ARTIFACTS / "operators-refund-preview.png"), full_page=True)
    page.click("input[name=_confirm]")

    note = Invoice.objects.get(corrects=acme)
    page.locator(".messagelist").get_by_text(f"Remboursé : avoir {note.number} émis.").wait_for()
    assert (note.document_type, note.total_cents) == (DocumentType.CREDIT_NOTE, -2_400)
    assert page.locator(f"#invoice-{note.number}").is_visible()
    charge = Charge.objects.get(invoice=acme)
    intent = stripe_client().v1.payment_intents.retrieve(charge.reference)
    latest = intent.latest_charge
    stripe_charge = stripe_client().v1.charges.retrieve(latest if isinstance(latest, str) else latest["id"])
    assert stripe_charge.amount_refunded == 2_400
    entry = AuditEntry.objects.get(kind=Kind.INVOICE_REFUNDED)
    assert (entry.actor_kind, entry.actor_email, entry.reason) == (
        ActorKind.OPERATOR, "finance@ops.test", "Panne de 3 jours, geste commercial",
    )  # fmt: skip
    assert page.locator("#audit").get_by_text("Panne de 3 jours, geste commercial").is_visible()


def test_a_support_operator_is_refused_a_refund(page, settings, acme):
    settings.ADMIN_REQUIRE_MFA = True
    secret = _operator("support@ops.test", "support")

    _sign_in_with_totp(page, "support@ops.test", secret)
    page.goto(f"/admin/workspaces/workspace/{acme.workspace_id}/change/")
    assert page.locator(f"#invoice-{acme.number}").is_visible()
    assert page.locator(f"#invoice-{acme.number}").get_by_role("link", name="Rembourser").count() == 0
    response = page.goto(f"/admin/workspaces/workspace/{acme.workspace_id}/operate/refund/?invoice={acme.pk}")

    assert response.status == 403
    assert "Votre groupe d’opérateurs ne permet pas cette action." in page.locator("#refusal").inner_text()
    assert not Invoice.objects.filter(corrects=acme).exists()
    assert Charge.objects.get(invoice=acme).refunded_cents == 0


def test_a_support_operator_extends_a_trial_after_reading_both_end_dates(page, settings):
    settings.ADMIN_REQUIRE_MFA = True
    owner = MembershipFactory(
        role=Role.OWNER, workspace__name="Trialco", user=UserFactory(email="owner@trialco.test")
    )
    subscribe(owner.workspace, owner, "business", trial=True, now=timezone.now())
    workspace = owner.workspace
    ends = Subscription.objects.get(workspace=workspace).trial_end
    secret = _operator("support@ops.test", "support")

    _sign_in_with_totp(page, "support@ops.test", secret)
    page.goto(f"/admin/workspaces/workspace/{workspace.pk}/change/")
    page.click("#action-trial")
    page.fill("input[name=days]", "7")
    page.fill("textarea[name=reason]", "Évaluation retardée par leurs congés")
    page.click("input[name=_preview]")
    preview = page.locator("#preview").inner_text()
    assert "Fin de l’essai actuelle" in preview
    assert "Premier prélèvement" in preview
    page.screenshot(path=str(ARTIFACTS / "operators-trial-preview.png"), full_page=True)
    page.click("input[name=_confirm]")

    page.locator(".messagelist").get_by_text("Essai prolongé").wait_for()
    assert Subscription.objects.get(workspace=workspace).trial_end == ends + timedelta(days=7)
    entry = AuditEntry.objects.get(kind=Kind.TRIAL_EXTENDED)
    assert (entry.actor_kind, entry.actor_email, entry.reason) == (
        ActorKind.OPERATOR, "support@ops.test", "Évaluation retardée par leurs congés",
    )  # fmt: skip
