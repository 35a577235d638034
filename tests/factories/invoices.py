"""Invoices and the account balance.

A finalized invoice is immutable and the account balance append-only (both enforced by
database triggers), and their numbers, totals and balances follow from how they were
issued: :class:`InvoiceFactory` and :class:`AccountBalanceCreditFactory` call the
services. Only a draft, which exists inside the issuing transaction and is not
protected, is written directly (:class:`DraftInvoiceFactory`).

``workspace`` is required by each factory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import factory
from django.utils import timezone

from billing import services as billing
from invoices.line_words import LineNumbers, line_words
from invoices.models import AccountBalanceEntry, Invoice, InvoiceLine
from invoices.services import account_balance_credit
from invoices.totals import DraftLine


def plan_line(amount_cents: int = 24_000, **overrides) -> DraftLine:
    """A plan line of 240,00 € for March 2026 (Business): 1 × 240,00 € = 240,00 €."""
    fields: dict[str, Any] = {
        "kind": "plan",
        "subject": "Business",
        "amount_cents": amount_cents,
        "quantity": 1,
        "unit_amount_cents": amount_cents,
        "period_start": datetime(2026, 3, 1, tzinfo=UTC),
        "period_end": datetime(2026, 3, 31, tzinfo=UTC),
        "metadata": {"plan": "business"},
    }
    fields.update(overrides)
    return DraftLine(**fields)


def line_text(line: LineNumbers, language: str = "fr", currency: str = "EUR") -> str:
    """A line as its reader reads it: "Forfait Business | 1 × 240,00 € = 240,00 €"
    (docs/rules/invoices.md#line-words)."""
    words = line_words(line, currency=currency, language=language)
    return f"{words.description} | {words.formula}"


class InvoiceFactory(factory.django.DjangoModelFactory):
    """An invoice issued by ``billing.services.invoice_issue`` at ``issued_at``: numbered,
    totalled from ``lines`` (default one :func:`plan_line`) with the account balance
    applied, open (or paid when nothing is left to pay). Idempotent on ``source``."""

    class Meta:
        model = Invoice

    lines = factory.LazyFunction(lambda: [plan_line()])
    billing_reason = "subscription_cycle"
    source = factory.Sequence(lambda n: f"test:{n}")
    issued_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *, workspace, lines, billing_reason, source, issued_at):
        return billing.invoice_issue(
            workspace=workspace,
            lines=list(lines),
            billing_reason=billing_reason,
            source=source,
            now=issued_at,
        )


class DraftInvoiceFactory(factory.django.DjangoModelFactory):
    """A draft, as it exists inside the issuing transaction: no number, not protected."""

    class Meta:
        model = Invoice

    currency = "EUR"
    billing_reason = "manual"
    source = factory.Sequence(lambda n: f"draft:{n}")
    created_at = factory.LazyFunction(timezone.now)


class DraftInvoiceLineFactory(factory.django.DjangoModelFactory):
    """A line of a draft (a finalized invoice refuses new lines)."""

    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(DraftInvoiceFactory)
    kind = "plan"
    subject = "Business"
    unit_amount_cents = 100
    amount_cents = 100


class AccountBalanceCreditFactory(factory.django.DjangoModelFactory):
    """Money credited to the account balance (``account_balance_credit``), which the next
    invoices consume. Idempotent on ``source``."""

    class Meta:
        model = AccountBalanceEntry

    amount_cents = 1_000
    currency = "EUR"
    reason = "test"
    source = factory.Sequence(lambda n: f"credit:{n}")
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *, workspace, created_at, **entry):
        return account_balance_credit(workspace=workspace, now=created_at, **entry)
