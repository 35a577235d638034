"""The invariants of a workspace's billing life, read from the database after every step.

Each check raises ``AssertionError`` with what it found. They read rows only (invoices,
lines, charges, ledgers, seats), never the subscription's dunning fields, which are
moving to the invoices.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from credits.models import CreditBalance, CreditGrant, GrantBucket, LedgerEntry
from invoices.models import (
    NUMBER_SERIES,
    PROTECTED_FIELDS,
    AccountBalanceEntry,
    Charge,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from subscriptions.models import Subscription, SubscriptionStatus
from teams.models import Seat, SeatCharge
from tests.properties.model import Observation
from workspaces.models import Membership, Workspace

BASIS_POINTS = 10_000


def half_up(numerator: int, denominator: int) -> int:
    """Round ``numerator / denominator`` to an integer, half away from zero
    (docs/rules/proration.md#rounding), written again here on purpose."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    return sign * (quotient + (1 if 2 * remainder >= abs(denominator) else 0))


def excluding_vat(total_cents: int) -> int:
    """The amount excluding VAT whose total, VAT at the default rate added, is ``total_cents``."""
    rate = int(settings.DEFAULT_VAT_RATE_BP)
    guess = half_up(total_cents * BASIS_POINTS, BASIS_POINTS + rate)
    for amount in (guess, guess - 1, guess + 1):
        if amount + half_up(amount * rate, BASIS_POINTS) == total_cents:
            return amount
    return guess


@dataclass(frozen=True)
class Document:
    """An issued invoice or credit note with its lines, read once per step."""

    invoice: Invoice
    lines: tuple[InvoiceLine, ...]

    @property
    def is_credit_note(self) -> bool:
        return self.invoice.document_type == DocumentType.CREDIT_NOTE


def issued_documents(workspaces: Iterable[Workspace] | None = None) -> list[Document]:
    invoices = Invoice.objects.exclude(status=InvoiceStatus.DRAFT)
    if workspaces is not None:
        invoices = invoices.filter(workspace__in=list(workspaces))
    by_invoice: dict[int, list[InvoiceLine]] = defaultdict(list)
    for line in InvoiceLine.objects.filter(invoice__in=invoices).order_by("invoice_id", "position", "id"):
        by_invoice[line.invoice_id].append(line)
    return [Document(invoice, tuple(by_invoice[invoice.pk])) for invoice in invoices.order_by("id")]


# --- every invoice and credit note -------------------------------------------------------------


def check_document(document: Document, by_id: Mapping[int, Document]) -> None:
    """Lines sum to the subtotal and each reads quantity × unit price × fraction = amount;
    VAT is the rate × the sum of the lines, rounded half away from zero; the totals add
    up; the status and the number fit the document's type (docs/rules/invoices.md)."""
    invoice, lines = document.invoice, document.lines
    label = f"{invoice.number} ({invoice.billing_reason}, {invoice.source})"
    assert lines, f"{label} has no lines"
    assert sum(line.amount_cents for line in lines) == invoice.subtotal_cents, (
        f"{label}: lines {[line.amount_cents for line in lines]} do not sum to the subtotal {invoice.subtotal_cents}"
    )
    for line in lines:
        check_line(line, label)
    rate = 0 if invoice.reverse_charge else int(invoice.vat_rate_bp)
    assert invoice.vat_rate_bp == int(settings.DEFAULT_VAT_RATE_BP), (
        f"{label}: VAT rate {invoice.vat_rate_bp}"
    )
    assert invoice.vat_cents == half_up(invoice.subtotal_cents * rate, BASIS_POINTS), (
        f"{label}: VAT {invoice.vat_cents} is not {rate} bp of the subtotal {invoice.subtotal_cents}"
    )
    assert invoice.total_cents == invoice.subtotal_cents + invoice.vat_cents, f"{label}: total"
    series = NUMBER_SERIES[DocumentType(invoice.document_type)]
    assert invoice.number, f"{label}: issued without a number"
    assert invoice.number.startswith(f"{series}-"), f"{label}: number of a {series} document"
    assert invoice.issued_at is not None
    if document.is_credit_note:
        assert invoice.total_cents < 0, f"{label}: a credit note that does not give money back"
        assert invoice.account_credit_applied_cents == 0, f"{label}: a credit note using the account balance"
        assert invoice.amount_due_cents == 0, f"{label}: a credit note asking for money"
        assert invoice.corrects_id is not None, f"{label}: a credit note names the invoice it corrects"
        # Where its money went (docs/rules/invoices.md#statuses): nowhere when it cancels an
        # unpaid invoice, to the account balance otherwise (no refunds are made here).
        status = InvoiceStatus.ISSUED if cancellation_of(document, by_id) else InvoiceStatus.CREDITED
        assert invoice.status == status, f"{label}: credit note {invoice.status}, not {status}"
        corrected = by_id[invoice.corrects_id].invoice
        assert corrected.workspace_id == invoice.workspace_id, f"{label} corrects another tenant's invoice"
        assert corrected.document_type == DocumentType.INVOICE, f"{label} corrects a credit note"
    else:
        assert invoice.total_cents >= 0, f"{label}: an invoice with a negative total"
        assert 0 <= invoice.account_credit_applied_cents <= invoice.total_cents, label
        assert invoice.amount_due_cents == invoice.total_cents - invoice.account_credit_applied_cents, label
        assert invoice.status in (
            InvoiceStatus.OPEN,
            InvoiceStatus.PAID,
            InvoiceStatus.FAILED,
            InvoiceStatus.VOID,
            InvoiceStatus.REFUNDED,
        ), f"{label}: invoice {invoice.status}"
        if invoice.status == InvoiceStatus.PAID:
            assert invoice.paid_at is not None, label
        if invoice.amount_due_cents == 0 and invoice.status != InvoiceStatus.VOID:
            assert invoice.status == InvoiceStatus.PAID, f"{label}: nothing to pay but {invoice.status}"


def check_line(line: InvoiceLine, label: str) -> None:
    """docs/rules/invoices.md#lines: quantity × unit price × fraction, rounded half-up to the
    cent, is the amount; a credit has a negative quantity."""
    numerator = getattr(line, "fraction_numerator", None)
    denominator = getattr(line, "fraction_denominator", None)
    if line.unit_amount_cents is None:
        return
    product = int(line.quantity) * int(line.unit_amount_cents)
    if numerator is None or denominator is None:
        expected = product
    else:
        assert denominator > 0, f"{label}: fraction {numerator}/{denominator}"
        assert 0 <= numerator <= denominator, f"{label}: fraction {numerator}/{denominator}"
        expected = half_up(product * numerator, denominator)
    assert expected == line.amount_cents, (
        f"{label}: {line.kind} line {line.quantity} × {line.unit_amount_cents}"
        f" × {numerator}/{denominator} = {expected}, but its amount is {line.amount_cents}"
    )
    if line.amount_cents < 0:
        assert line.quantity < 0, f"{label}: a credit line with quantity {line.quantity}"


def cancellation_of(document: Document, by_id: Mapping[int, Document]) -> Document | None:
    """The void invoice a credit note cancels, when it repeats each of its lines with the
    opposite amount (docs/rules/invoices.md#cancelling-an-unpaid-invoice)."""
    if not document.is_credit_note or document.invoice.corrects_id is None:
        return None
    corrected = by_id.get(document.invoice.corrects_id)
    if corrected is None or corrected.invoice.status != InvoiceStatus.VOID:
        return None
    mirrored = [(line.kind, -line.amount_cents, -line.quantity) for line in corrected.lines]
    if [(line.kind, line.amount_cents, line.quantity) for line in document.lines] != mirrored:
        return None
    return corrected


def check_cancellations(documents: Sequence[Document], by_id: Mapping[int, Document]) -> set[int]:
    """Every void invoice is cancelled by one credit note that repeats its lines with the
    opposite amounts, at its VAT: the money it asked for, given back whole
    (docs/rules/invoices.md#cancelling-an-unpaid-invoice). Returns the ids of both."""
    cancelled: dict[int, list[int]] = defaultdict(list)
    for document in documents:
        corrected = cancellation_of(document, by_id)
        if corrected is not None:
            cancelled[corrected.invoice.pk].append(document.invoice.pk)
            assert document.invoice.vat_cents == -corrected.invoice.vat_cents, (
                f"{document.invoice.number} does not give back the VAT of {corrected.invoice.number}"
            )
    pair_ids: set[int] = set()
    for document in documents:
        invoice = document.invoice
        if invoice.status != InvoiceStatus.VOID:
            continue
        notes = cancelled.get(invoice.pk, [])
        assert len(notes) == 1, f"{invoice.number} is void, cancelled by {len(notes)} credit notes"
        pair_ids.update([invoice.pk, *notes])
    return pair_ids


_NUMBER = re.compile(r"^(?P<series>[A-Z]+)-(?P<year>\d{4})-(?P<n>\d{6})$")


def check_numbering(documents: Sequence[Document]) -> None:
    """Each series is gap-free per year, numbered in the seller's calendar year of issue, and
    a later number never has an earlier date (docs/rules/invoices.md#numbering). Every
    example starts from an empty database, so each series starts at 1."""
    seller_zone = ZoneInfo(settings.SELLER_TIME_ZONE)
    series: dict[tuple[str, int], list[tuple[int, datetime, str]]] = defaultdict(list)
    for document in documents:
        invoice = document.invoice
        match = _NUMBER.match(invoice.number or "")
        assert match, f"malformed number {invoice.number!r}"
        year = int(match["year"])
        assert invoice.issued_at is not None
        assert invoice.issued_at.astimezone(seller_zone).year == year, (
            f"{invoice.number} issued {invoice.issued_at.isoformat()}: not the seller's year"
        )
        series[(match["series"], year)].append((int(match["n"]), invoice.issued_at, invoice.number or ""))
    for (prefix, year), numbered in series.items():
        numbered.sort()
        assert [n for n, _at, _number in numbered] == list(range(1, len(numbered) + 1)), (
            f"{prefix}-{year} has gaps or duplicates: {[number for _n, _at, number in numbered]}"
        )
        for (_n, earlier, first), (_m, later, second) in zip(numbered, numbered[1:], strict=False):
            assert earlier <= later, (
                f"{second} ({later.isoformat()}) is dated before {first} ({earlier.isoformat()})"
            )


def fingerprint(document: Document) -> str:
    """What an issued document may never change: its protected fields and its lines."""
    invoice = document.invoice
    payload: dict[str, Any] = {name: getattr(invoice, name) for name in PROTECTED_FIELDS}
    payload["lines"] = [
        [
            line.position,
            line.kind,
            line.description,
            line.quantity,
            line.unit_amount_cents,
            line.amount_cents,
            line.period_start,
            line.period_end,
            line.metadata,
        ]
        for line in document.lines
    ]
    encoded = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def check_unchanged(documents: Sequence[Document], seen: dict[int, str]) -> None:
    """No issued document changed since it was first seen (docs/rules/invoices.md#immutability)."""
    present = {document.invoice.pk for document in documents}
    vanished = set(seen) - present
    assert not vanished, f"issued documents deleted: {sorted(vanished)}"
    for document in documents:
        digest = fingerprint(document)
        first = seen.setdefault(document.invoice.pk, digest)
        assert first == digest, f"{document.invoice.number} changed after it was issued"


# --- ledgers ------------------------------------------------------------------------------------


_LEDGER_FACTS = """
SELECT
    (SELECT balance FROM {balance} WHERE workspace_id = %(ws)s),
    (SELECT COALESCE(SUM(amount), 0) FROM {ledger} WHERE workspace_id = %(ws)s),
    (SELECT balance_after FROM {ledger} WHERE workspace_id = %(ws)s ORDER BY id DESC LIMIT 1),
    (SELECT COALESCE(SUM(remaining), 0) FROM {grant} WHERE workspace_id = %(ws)s AND expired_at IS NULL),
    (SELECT COALESCE(SUM(amount_cents), 0) FROM {account} WHERE workspace_id = %(ws)s),
    (SELECT balance_after_cents FROM {account} WHERE workspace_id = %(ws)s ORDER BY id DESC LIMIT 1)
"""


def check_ledgers(workspace: Workspace) -> None:
    """The credit balance is the sum of the ledger, the last entry's running balance and
    what the live grants hold (docs/rules/credits.md#ledger; no reservations are made
    here); the account balance is the sum of its entries, never negative
    (docs/rules/invoices.md#account-balance)."""
    sql = _LEDGER_FACTS.format(
        balance=CreditBalance._meta.db_table,
        ledger=LedgerEntry._meta.db_table,
        grant=CreditGrant._meta.db_table,
        account=AccountBalanceEntry._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ws": workspace.pk})
        cached, total, last, live, account, account_last = cursor.fetchone()
    name = workspace.name
    if cached is None:
        assert total == 0, f"{name}: ledger {total} without a balance row"
    else:
        assert total == cached, f"{name}: the credit ledger sums to {total}, the cached balance is {cached}"
        assert last is None or last == cached, (
            f"{name}: the last ledger entry says {last}, the balance {cached}"
        )
        assert live == cached, f"{name}: live grants hold {live}, the balance is {cached}"
        assert cached >= 0
    assert (account_last or 0) == account, (
        f"{name}: account balance entries sum to {account}, last says {account_last}"
    )
    assert account >= 0, f"{name}: negative account balance {account}"


def check_allowance_grants(workspace: Workspace, observations: Sequence[Observation]) -> None:
    """No allowance grant exceeds the largest allowance of the plans held during its
    period, at the licences then (docs/rules/credits.md#plan-changes-and-the-allowance).
    No add-on is ever bought here, so no add-on allowance exists."""
    grants = CreditGrant.objects.filter(
        workspace=workspace, bucket__in=(GrantBucket.PLAN_ALLOWANCE, GrantBucket.ADDON_ALLOWANCE)
    ).values_list("bucket", "amount", "period_start", "period_end")
    for bucket, amount, start, end in grants:
        assert bucket == GrantBucket.PLAN_ALLOWANCE, f"{workspace.name}: an add-on allowance without add-ons"
        assert start is not None, f"{workspace.name}: an allowance without its period"
        assert end is not None, f"{workspace.name}: an allowance without its period"
        held = [int(str(o.meta["allowance"])) for o in observations if start <= o.day < end]
        assert held, f"{workspace.name}: allowance grant for {start}–{end} never observed"
        assert amount <= max(held), (
            f"{workspace.name}: allowance {amount} granted for {start}–{end}, "
            f"the largest plan held then gives {max(held)}"
        )


_CHARGE_KEY = re.compile(r"^invoice:(?P<id>\d+):attempt:(?P<n>\d+)$")


def check_cash(workspace: Workspace, documents: Sequence[Document]) -> int:
    """Money collected is exactly the amount due of the paid invoices, one successful charge
    each (docs/rules/payments.md#charging-an-invoice). Returns what was collected."""
    invoices = {d.invoice.pk: d.invoice for d in documents if d.invoice.workspace_id == workspace.pk}
    collected: dict[int, int] = defaultdict(int)
    for charge in Charge.objects.filter(workspace=workspace, status="succeeded"):
        match = _CHARGE_KEY.match(charge.idempotency_key)
        assert match, f"a charge not keyed by an invoice attempt: {charge.idempotency_key}"
        invoice = invoices.get(int(match["id"]))
        assert invoice is not None, f"{charge.idempotency_key} charged another tenant's invoice or none"
        assert invoice.status in (InvoiceStatus.PAID, InvoiceStatus.REFUNDED), (
            f"{invoice.number} was charged {charge.amount_cents} but is {invoice.status}"
        )
        assert charge.amount_cents == invoice.amount_due_cents, (
            f"{invoice.number} due {invoice.amount_due_cents}, charged {charge.amount_cents}"
        )
        collected[invoice.pk] += charge.amount_cents
    for invoice in invoices.values():
        if invoice.status == InvoiceStatus.PAID:
            assert collected.get(invoice.pk, 0) == invoice.amount_due_cents, (
                f"{invoice.number} is paid: due {invoice.amount_due_cents}, collected {collected.get(invoice.pk, 0)}"
            )
    return sum(collected.values())


def check_dunning(workspace: Workspace) -> None:
    """Every failed invoice is in dunning: its next attempt is scheduled, until one is paid
    or its last retry fails, whose consequence ends it (docs/rules/dunning.md#retry-schedule,
    #last-failure); and the subscription is past due exactly while one is
    (docs/rules/dunning.md#subscription-status; a cancelled one stays cancelled)."""
    failed = list(
        Invoice.objects.filter(workspace=workspace, status=InvoiceStatus.FAILED).values_list(
            "number", "next_payment_attempt_at"
        )
    )
    stuck = [number for number, next_at in failed if next_at is None]
    assert not stuck, f"{workspace.name}: {stuck} failed with no retry left, yet not settled"
    status = Subscription.objects.filter(workspace=workspace).values_list("status", flat=True).first()
    if failed:
        assert status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.CANCELED), (
            f"{workspace.name}: {[number for number, _at in failed]} failed, the subscription is {status}"
        )
    else:
        assert status != SubscriptionStatus.PAST_DUE, f"{workspace.name}: past due with no failed invoice"


def licences(
    *, members: int, seated: int, paid: int, extra: int, included: int, seats_free: bool, expired: bool
) -> int:
    """docs/rules/credits.md#licences, written again from the rule."""
    if seats_free or expired:
        return members
    return max(members, min(included, members - seated) + extra + paid)


_TENANT_DIGEST = """
SELECT
    (SELECT COALESCE(string_agg(id || ':' || status, ',' ORDER BY id), '') FROM {invoice} WHERE workspace_id = %(ws)s),
    (SELECT count(*) || ':' || COALESCE(max(id), 0) FROM {ledger} WHERE workspace_id = %(ws)s),
    (SELECT count(*) || ':' || COALESCE(max(id), 0) FROM {account} WHERE workspace_id = %(ws)s),
    (SELECT count(*) FROM {charge} WHERE workspace_id = %(ws)s),
    (SELECT COALESCE(string_agg(id || ':' || status || ':' || amount_cents, ',' ORDER BY id), '')
       FROM {seat_charge} WHERE workspace_id = %(ws)s),
    (SELECT COALESCE(string_agg(id || ':' || status, ',' ORDER BY id), '') FROM {seat} WHERE workspace_id = %(ws)s),
    (SELECT count(*) FROM {membership} WHERE workspace_id = %(ws)s),
    (SELECT updated_at::text FROM {subscription} WHERE workspace_id = %(ws)s)
"""


def tenant_digest(workspace: Workspace) -> tuple[object, ...]:
    """What another tenant's step must leave untouched, read in one query."""
    sql = _TENANT_DIGEST.format(
        invoice=Invoice._meta.db_table,
        ledger=LedgerEntry._meta.db_table,
        account=AccountBalanceEntry._meta.db_table,
        charge=Charge._meta.db_table,
        seat_charge=SeatCharge._meta.db_table,
        seat=Seat._meta.db_table,
        membership=Membership._meta.db_table,
        subscription=Subscription._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ws": workspace.pk})
        return tuple(cursor.fetchone())
