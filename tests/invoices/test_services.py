"""invoices.services: issuing, paying, failing, voiding and refunding invoices."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from billing import services as billing
from invoices import errors, selectors, services
from invoices.models import AccountBalanceEntry, Invoice, InvoiceLine, InvoiceNumberCounter
from invoices.totals import DraftLine
from tests.factories import MembershipFactory
from tests.invoices.conftest import NOW, plan_line
from workspaces.models import Role
from workspaces.selectors import billing_contacts


def test_invoice_create_finalizes_with_totals_lines_and_parties(
    workspace, other_workspace, make_invoice, settings
):
    workspace.billing_email = "billing@acme.test"
    workspace.save()
    # -1 × 100,00 € × 20/30 days = -66,666… → -66,67 €
    credit = DraftLine(
        kind="credit",
        subject="Starter",
        quantity=-1,
        unit_amount_cents=10_000,
        fraction_numerator=20,
        fraction_denominator=30,
        fraction_unit="day",
        amount_cents=-6_667,
    )
    invoice = make_invoice(workspace, plan_line(16_000), credit, billing_reason="plan_change")

    invoice.refresh_from_db()
    assert invoice.status == "open"
    assert invoice.currency == "EUR"
    assert invoice.subtotal_cents == 9_333
    assert invoice.vat_rate_bp == 2000
    assert invoice.vat_cents == 1_867  # 1 866.6 → 1 867, half up
    assert invoice.total_cents == 11_200
    assert invoice.amount_due_cents == 11_200
    assert invoice.issued_at == invoice.due_at == NOW
    assert invoice.paid_at is None
    assert invoice.billing_reason == "plan_change"
    assert (invoice.seller_name, invoice.seller_siren, invoice.seller_vat_number) == (
        settings.SELLER_NAME,
        settings.SELLER_SIREN,
        settings.SELLER_VAT_NUMBER,
    )
    assert (invoice.buyer_name, invoice.buyer_email, invoice.buyer_country) == (
        "Acme Test",
        "billing@acme.test",
        "FR",
    )

    lines = list(invoice.lines.order_by("position"))
    assert [(line.kind, line.amount_cents, line.position) for line in lines] == [
        ("plan", 16_000, 0),
        ("credit", -6_667, 1),
    ]
    assert (lines[0].subject, lines[0].quantity, lines[0].unit_amount_cents, lines[0].description) == (
        "Business",
        1,
        16_000,
        "",
    )
    assert (lines[1].fraction_numerator, lines[1].fraction_denominator, lines[1].fraction_unit) == (
        20,
        30,
        "day",
    )
    assert lines[0].period_start == datetime(2026, 3, 1, tzinfo=UTC)
    assert lines[0].metadata == {"plan": "business"}
    assert not Invoice.objects.filter(workspace=other_workspace).exists()


def test_same_source_returns_the_first_invoice_unchanged(workspace, other_workspace, make_invoice):
    first = make_invoice(workspace, plan_line(10_000), source="renewal:sub-1:2026-03")
    again = make_invoice(workspace, plan_line(99_999), source="renewal:sub-1:2026-03")
    assert again.pk == first.pk
    assert again.total_cents == 12_000
    assert Invoice.objects.filter(workspace=workspace).count() == 1
    assert InvoiceLine.objects.filter(invoice__workspace=workspace).count() == 1
    # The source is unique per workspace, not across tenants.
    elsewhere = make_invoice(other_workspace, plan_line(10_000), source="renewal:sub-1:2026-03")
    assert elsewhere.pk != first.pk
    assert InvoiceNumberCounter.objects.get(year=2026).last_number == 2


@pytest.mark.parametrize(
    ("lines", "kwargs", "error"),
    [
        ([], {}, errors.InvoiceWithoutLines),
        ([plan_line(kind="gift")], {}, errors.InvoiceLineInvalid),
        # Neither named nor worded.
        ([plan_line(subject=None, description="  ")], {}, errors.InvoiceLineInvalid),
        # 1 × 239,99 € is not 240,00 €.
        ([plan_line(unit_amount_cents=23_999)], {}, errors.InvoiceLineInvalid),
        # 240,00 € × 31/30 = 248,00 €, but no more than the whole period is billed.
        (
            [
                plan_line(
                    24_800,
                    unit_amount_cents=24_000,
                    fraction_numerator=31,
                    fraction_denominator=30,
                    fraction_unit="day",
                )
            ],
            {},
            errors.InvoiceLineInvalid,
        ),
        ([plan_line(amount_cents=10.5)], {}, errors.InvoiceLineInvalid),  # type: ignore[arg-type]
        ([plan_line(period_start=datetime(2026, 3, 1))], {}, errors.InvoiceLineInvalid),
        (
            [
                plan_line(
                    period_start=datetime(2026, 4, 1, tzinfo=UTC), period_end=datetime(2026, 3, 1, tzinfo=UTC)
                )
            ],
            {},
            errors.InvoiceLineInvalid,
        ),
        ([plan_line(-500)], {}, errors.CreditNoteWithoutInvoice),
        ([plan_line()], {"billing_reason": "birthday"}, errors.UnknownBillingReason),
        ([plan_line()], {"source": " "}, errors.InvoiceSourceMissing),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(workspace, lines, kwargs, error):
    services.account_balance_credit(
        workspace=workspace, amount_cents=1_000, currency="EUR", reason="downgrade", source="d:1", now=NOW
    )
    arguments = {"billing_reason": "manual", "source": "bad", **kwargs}
    with pytest.raises(error) as raised:
        billing.invoice_issue(workspace=workspace, lines=lines, now=NOW, **arguments)
    assert str(raised.value.message) == str(error.message)
    assert Invoice.objects.count() == 0
    assert InvoiceLine.objects.count() == 0
    assert not InvoiceNumberCounter.objects.filter(last_number__gt=0).exists()
    assert selectors.account_balance_cents(workspace) == 1_000


@pytest.mark.parametrize(
    ("country", "vat_number", "reverse_charge", "vat_cents"),
    [
        ("DE", "DE123456789", True, 0),
        ("BE", "BE0123456789", True, 0),
        ("FR", "FR40123456789", False, 2_000),  # the seller's own country: French VAT
        ("DE", "", False, 2_000),  # no VAT number: a consumer pays VAT
        ("US", "US-12-3456789", False, 2_000),  # outside the EU: no reverse-charge mention
    ],
)
def test_reverse_charge_for_eu_businesses_outside_the_sellers_country(
    workspace, make_invoice, country, vat_number, reverse_charge, vat_cents
):
    workspace.country, workspace.vat_number = country, vat_number
    workspace.save()
    assert selectors.vat_context(workspace) == (2000, reverse_charge)
    invoice = make_invoice(workspace, plan_line(10_000))
    assert invoice.reverse_charge is reverse_charge
    assert invoice.vat_cents == vat_cents
    assert invoice.total_cents == 10_000 + vat_cents


def test_vat_rate_comes_from_settings(workspace, make_invoice, settings):
    settings.DEFAULT_VAT_RATE_BP = 550
    invoice = make_invoice(workspace, plan_line(300))
    assert (invoice.vat_rate_bp, invoice.vat_cents) == (550, 17)


def test_mark_paid_records_the_payment_runs_the_hook_once_and_sends_the_receipt(
    workspace, owner, admin, member_with_role, make_invoice, hook_calls, django_capture_on_commit_callbacks
):
    workspace.billing_email = "compta@acme.test"
    workspace.save()
    member_with_role(Role.MEMBER)
    billing_admin = member_with_role(Role.BILLING_ADMIN)
    invoice = make_invoice(workspace)
    paid_at = NOW + timedelta(minutes=5)

    with django_capture_on_commit_callbacks(execute=True):
        paid = billing.invoice_pay(invoice=invoice, now=paid_at, payment_reference="local_ch_1")
    again = billing.invoice_pay(invoice=invoice, now=paid_at + timedelta(days=1), payment_reference="x")

    paid.refresh_from_db()
    assert (paid.status, paid.paid_at, paid.payment_reference) == ("paid", paid_at, "local_ch_1")
    assert again.paid_at == paid_at
    assert hook_calls == [("paid", invoice.pk, paid_at)]

    assert len(mail.outbox) == 1
    receipt = mail.outbox[0]
    assert sorted(receipt.to) == sorted(
        [owner.user.email, admin.user.email, billing_admin.user.email, "compta@acme.test"]
    )
    assert invoice.number in receipt.subject
    assert "Reçu de paiement" in receipt.subject
    assert "Montant payé : 288,00\u00a0€" in receipt.body
    (filename, content, mimetype) = receipt.attachments[0]
    assert (filename, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF-")
    assert paid.receipt_sent_at is not None
    # A second delivery of the task sends nothing more.
    assert services.invoice_receipt_send(invoice=paid, now=paid_at) is False
    assert len(mail.outbox) == 1


def test_payment_failure_counts_attempts_then_payment_still_possible(workspace, make_invoice, hook_calls):
    invoice = make_invoice(workspace)
    retry_at = NOW + timedelta(days=1)
    failed = services.invoice_mark_payment_failed(
        invoice=invoice, now=NOW, next_attempt_at=retry_at, reason="Your card was declined."
    )
    failed = services.invoice_mark_payment_failed(
        invoice=failed,
        now=retry_at,
        next_attempt_at=NOW + timedelta(days=3),
        reason="Your card was declined.",
    )
    assert (failed.status, failed.attempt_count) == ("failed", 2)
    assert failed.next_payment_attempt_at == NOW + timedelta(days=3)
    assert failed.payment_failure_message == "Your card was declined."

    paid = billing.invoice_pay(invoice=failed, now=NOW + timedelta(days=3))
    assert paid.status == "paid"
    assert paid.next_payment_attempt_at is None
    with pytest.raises(errors.InvoiceAlreadyPaid):
        services.invoice_mark_payment_failed(invoice=paid, now=NOW, next_attempt_at=None, reason="late")
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


def test_void_gives_back_the_applied_account_credit(workspace, other_workspace, make_invoice, hook_calls):
    services.account_balance_credit(
        workspace=workspace, amount_cents=5_000, currency="EUR", reason="downgrade", source="d:1", now=NOW
    )
    invoice = make_invoice(workspace, plan_line(10_000))
    assert invoice.account_credit_applied_cents == 5_000
    assert selectors.account_balance_cents(workspace) == 0

    voided = services.invoice_void(invoice=invoice, now=NOW + timedelta(hours=1))
    assert (voided.status, voided.voided_at) == ("void", NOW + timedelta(hours=1))
    assert voided.number == invoice.number  # a void invoice keeps its number: no gap
    assert selectors.account_balance_cents(workspace) == 5_000
    assert services.invoice_void(invoice=voided, now=NOW).status == "void"
    assert selectors.account_balance_cents(workspace) == 5_000
    with pytest.raises(errors.InvoiceNotPayable):
        billing.invoice_pay(invoice=voided, now=NOW)
    assert selectors.account_balance_cents(other_workspace) == 0
    assert hook_calls == []


def test_only_unpaid_invoices_can_be_voided(workspace, make_invoice, hook_calls):
    invoice = billing.invoice_pay(invoice=make_invoice(workspace), now=NOW)
    with pytest.raises(errors.InvoiceNotVoidable):
        services.invoice_void(invoice=invoice, now=NOW)
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


def test_refund_of_a_paid_invoice_runs_the_hook_and_returns_account_credit(
    workspace, make_invoice, hook_calls
):
    services.account_balance_credit(
        workspace=workspace, amount_cents=2_000, currency="EUR", reason="downgrade", source="d:1", now=NOW
    )
    invoice = make_invoice(workspace, plan_line(10_000))
    with pytest.raises(errors.InvoiceNotRefundable):
        billing.invoice_refund(invoice=invoice, now=NOW)
    billing.invoice_pay(invoice=invoice, now=NOW)
    later = NOW + timedelta(days=2)

    refunded = billing.invoice_refund(invoice=invoice, now=later)
    billing.invoice_refund(invoice=invoice, now=later + timedelta(days=1))

    assert (refunded.status, refunded.refunded_at) == ("refunded", later)
    assert hook_calls == [("paid", invoice.pk, NOW), ("refunded", invoice.pk, later)]
    assert selectors.account_balance_cents(workspace) == 2_000


def test_an_invoice_covered_by_account_credit_is_paid_at_once(workspace, make_invoice, hook_calls):
    services.account_balance_credit(
        workspace=workspace, amount_cents=50_000, currency="EUR", reason="downgrade", source="d:1", now=NOW
    )
    invoice = make_invoice(workspace, plan_line(10_000))
    assert (invoice.status, invoice.paid_at) == ("paid", NOW)
    assert (invoice.account_credit_applied_cents, invoice.amount_due_cents) == (12_000, 0)
    assert hook_calls == [("paid", invoice.pk, NOW)]
    assert selectors.account_balance_cents(workspace) == 38_000


def test_receipt_goes_nowhere_without_recipients_but_is_not_sent_twice(workspace, make_invoice, hook_calls):
    MembershipFactory(workspace=workspace, role=Role.MEMBER)
    assert billing_contacts(workspace) == [workspace.memberships.get(role=Role.OWNER).user.email]
    open_invoice = make_invoice(workspace)
    assert services.invoice_receipt_send(invoice=open_invoice, now=NOW) is False  # not paid: no receipt
    assert mail.outbox == []
    assert AccountBalanceEntry.objects.count() == 0
