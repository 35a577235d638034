"""Issuing invoices: the one path that creates and finalizes them (docs/rules/invoices.md).

:func:`issue_invoices` takes drafts for any number of workspaces, the renewal sweep's
thousands as much as a single plan change, and for each draft:

1. takes the account-balance lock of every workspace whose balance holds money (read,
   lock, read again), and of the only workspace when there is one draft, so that two
   calls with the same source serialize;
2. skips a draft whose ``(workspace, source)`` was issued already (idempotency) and
   returns that invoice instead;
3. reads the billing details of each workspace whose buyer is not given as an issued
   document recorded it (one query for the batch) and copies them, with the seller's
   legal identity and the billing language, onto the document
   (docs/rules/invoices.md#billing-details); every document is issued as Factur-X
   (docs/rules/invoices.md#factur-x); then computes the totals with
   :func:`invoices.totals.compute_totals` under the buyer's VAT context, applying the
   account balance;
4. reserves consecutive numbers last (the year's counter row stays locked until commit,
   so a rollback gives them back and numbering stays gap-free);
5. writes the documents, their lines and the account-balance entries with ``COPY`` (rows
   take the models' own field defaults, as ``bulk_create`` would) and finalizes them with
   one ``UPDATE``: open, or paid at once when nothing is left to pay; a draft that nets
   below zero is a credit note (``AV-YYYY-NNNNNN``, naming the invoice it corrects) whose
   amount, VAT included, goes to the account balance
   (docs/rules/invoices.md#credit-notes);
6. in the same transaction, queues one PDF task for the batch and one receipt task for those paid
   at issue.

What a payment grants (purchased credits, a subscription out of dunning) belongs to the
billing layer above, which calls this module and then settles the invoices paid at issue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, transaction

from domain.vat import is_reverse_charge
from invoices import errors
from invoices.copying import copy_rows
from invoices.line_checks import validate_lines
from invoices.models import (
    FACTURX_EN16931,
    NUMBER_SERIES,
    AccountBalanceEntry,
    BillingDetails,
    BillingReason,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from invoices.numbering import reserve_invoice_numbers
from invoices.totals import DraftLine, Totals, compute_totals
from outbox import services as outbox
from workspaces.models import Workspace

#: First key of the advisory locks that serialize a workspace's account balance.
ACCOUNT_BALANCE_LOCK = 7_310_001


@dataclass(frozen=True)
class RecordedBuyer:
    """The buyer's details and document language as an issued document recorded them."""

    details: dict[str, Any]
    language: str


@dataclass(frozen=True)
class Buyer:
    """What an invoice records of its buyer, read when it is issued."""

    workspace_id: Any
    name: str
    email: str
    country: str
    vat_number: str
    currency: str
    #: Given for a document that corrects an issued one (its buyer as recorded); None:
    #: the workspace's billing details are read at issue.
    recorded: RecordedBuyer | None = None

    @classmethod
    def as_invoiced(cls, invoice: Invoice) -> Buyer:
        """The buyer as an issued invoice recorded it (a document that corrects it)."""
        return cls(
            workspace_id=invoice.workspace_id,
            name=invoice.buyer_name,
            email=invoice.buyer_email,
            country=invoice.buyer_country,
            vat_number=invoice.buyer_vat_number,
            currency=invoice.currency,
            recorded=RecordedBuyer(
                details=dict((invoice.parties or {}).get("buyer", {})), language=invoice.language
            ),
        )

    @classmethod
    def of(cls, workspace: Workspace) -> Buyer:
        return cls(
            workspace_id=workspace.pk,
            name=workspace.name,
            email=workspace.billing_email,
            country=workspace.country,
            vat_number=workspace.vat_number,
            currency=workspace.currency,
        )


@dataclass(frozen=True)
class InvoiceDraft:
    buyer: Buyer
    billing_reason: str
    source: str
    lines: Sequence[DraftLine]
    #: The invoice a credit note corrects (a draft whose lines net below zero).
    corrects_id: int | None = None
    #: The credit note cancels that invoice, which was never paid: nothing goes to the
    #: account balance (docs/rules/invoices.md#cancelling-an-unpaid-invoice).
    cancels: bool = False
    #: The VAT rate to apply, when it must be another document's (a cancellation);
    #: by default the current rate.
    vat_rate_bp: int | None = None
    #: A credit note's status at issue when its money does not go to the account balance:
    #: ``issued`` for a cancellation (the default with ``cancels``), ``refunded`` for money
    #: given back to the card.
    credit_status: str | None = None


@dataclass(frozen=True)
class IssuedInvoice:
    invoice_id: int
    source: str
    totals: Totals | None
    #: Nothing was left to pay: the invoice was issued paid.
    paid_at_issue: bool
    #: The source had been issued before: this is that invoice, unchanged.
    existing: bool = False


def _raw_cursor() -> psycopg.Cursor[Any]:
    """A server-side-binding cursor on Django's connection: large arrays travel in binary."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def account_balances_lock(workspace_ids: Sequence[object]) -> None:
    """Take the account-balance lock of each workspace until the transaction ends, in one
    statement and a fixed order (the id's text), so two writers never deadlock."""
    keys = sorted({str(w) for w in workspace_ids})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(w)) FROM unnest(%s::text[]) AS w ORDER BY w",
            [ACCOUNT_BALANCE_LOCK, keys],
        )


_LATEST_BALANCES = (
    "SELECT DISTINCT ON (workspace_id) workspace_id, balance_after_cents "
    f"FROM {AccountBalanceEntry._meta.db_table} WHERE workspace_id = ANY(%s) ORDER BY workspace_id, id DESC"
)


def _locked_balances(workspace_ids: list[Any], *, always_lock: bool, credited: set[Any]) -> dict[Any, int]:
    """Account balances, read again under the per-workspace lock. A workspace read at zero
    is not locked (unless ``always_lock``, or a credit note will credit it): nothing of its
    balance is applied, so a credit arriving meanwhile simply waits for its next invoice. Locking only the holders keeps a
    sweep of thousands within PostgreSQL's lock table."""
    with _raw_cursor() as cursor:
        cursor.execute(_LATEST_BALANCES, [workspace_ids])
        balances = dict(cursor.fetchall())
        holders = (
            workspace_ids
            if always_lock
            else [w for w in workspace_ids if balances.get(w, 0) > 0 or w in credited]
        )
        if not holders:
            return {}
        account_balances_lock(holders)
        cursor.execute(_LATEST_BALANCES, [list(holders)])
        return dict(cursor.fetchall())


_BILLING_REASONS = frozenset(BillingReason.values)


def _validate(draft: InvoiceDraft) -> None:
    if not draft.source.strip():
        raise errors.InvoiceSourceMissing()
    if draft.billing_reason not in _BILLING_REASONS:
        raise errors.UnknownBillingReason()
    validate_lines(draft.lines)


def _existing(drafts: Sequence[InvoiceDraft]) -> dict[tuple[str, str], int]:
    """The documents already issued for these drafts' ``(workspace, source)`` pairs: one
    probe of the unique index per pair."""
    with _raw_cursor() as cursor:
        cursor.execute(
            f"SELECT i.workspace_id, i.source, i.id FROM {Invoice._meta.db_table} AS i "
            "JOIN unnest(%s::uuid[], %s::text[]) AS d(workspace_id, source) "
            "ON i.workspace_id = d.workspace_id AND i.source = d.source",
            [[d.buyer.workspace_id for d in drafts], [d.source for d in drafts]],
        )
        return {(str(w), source): pk for w, source, pk in cursor.fetchall()}


def _seller() -> tuple[dict[str, str], dict[str, Any]]:
    """The seller's columns and its other legal details, from the settings."""
    street = str(settings.SELLER_STREET)
    place = f"{settings.SELLER_POSTAL_CODE} {settings.SELLER_CITY}".strip()
    columns = {
        "seller_name": settings.SELLER_NAME,
        "seller_address": "\n".join(line for line in [*street.splitlines(), place] if line.strip()),
        "seller_country": settings.SELLER_COUNTRY,
        "seller_vat_number": settings.SELLER_VAT_NUMBER,
        "seller_siren": settings.SELLER_SIREN,
    }
    details = {
        "legal_form": settings.SELLER_LEGAL_FORM,
        "share_capital_cents": int(settings.SELLER_SHARE_CAPITAL_CENTS),
        "rcs": settings.SELLER_RCS,
        "street": street,
        "postal_code": settings.SELLER_POSTAL_CODE,
        "city": settings.SELLER_CITY,
    }
    return columns, details


@dataclass(frozen=True)
class _Party:
    """What a document records of its buyer beyond the columns the buyer gives."""

    name: str
    language: str
    details: dict[str, Any]


def _buyer_parties(drafts: Sequence[InvoiceDraft]) -> dict[tuple[str, str], _Party]:
    """Each draft's buyer as the document records it: the billing details read now (one
    query for the batch), or those an issued document recorded."""
    current = {d.buyer.workspace_id for d in drafts if d.buyer.recorded is None}
    found = {
        str(row.workspace_id): row for row in BillingDetails.objects.filter(workspace_id__in=list(current))
    }
    parties = {}
    for draft in drafts:
        buyer = draft.buyer
        if buyer.recorded is not None:
            party = _Party(name=buyer.name, language=buyer.recorded.language, details=buyer.recorded.details)
        else:
            row = found.get(str(buyer.workspace_id))
            if row is None:
                party = _Party(name=buyer.name, language=settings.LANGUAGE_CODE, details={})
            else:
                party = _Party(
                    name=row.legal_name or buyer.name,
                    language=row.language,
                    details={
                        "street": row.street,
                        "postal_code": row.postal_code,
                        "city": row.city,
                        "registration_number": row.registration_number,
                        "purchase_order": row.purchase_order,
                    },
                )
        parties[(str(buyer.workspace_id), draft.source)] = party
    return parties


def queue_pdf_renders(invoice_ids: list[int]) -> None:
    """Render the PDFs once this transaction commits (an outbox row: never lost)."""
    if invoice_ids:
        outbox.enqueue_task("invoices.tasks.render_invoice_pdfs_task", invoice_ids)


def queue_receipts(invoice_ids: list[int]) -> None:
    """Email the receipts once this transaction commits (an outbox row: never lost)."""
    if invoice_ids:
        outbox.enqueue_task("invoices.tasks.send_invoice_receipts_task", invoice_ids)


def issue_invoices(drafts: Sequence[InvoiceDraft], *, now: datetime) -> list[IssuedInvoice]:
    """Issue every draft (see the module's docstring), in the caller's transaction.

    Returns one :class:`IssuedInvoice` per draft, in order. A draft whose total would be
    negative is refused: a net credit belongs on the account balance.
    """
    if not drafts:
        return []
    if not connection.in_atomic_block:
        with transaction.atomic():
            return issue_invoices(drafts, now=now)
    for draft in drafts:
        _validate(draft)
    workspace_ids = sorted({d.buyer.workspace_id for d in drafts}, key=str)
    credited = {
        d.buyer.workspace_id
        for d in drafts
        if not d.cancels and sum(line.amount_cents for line in d.lines) < 0
    }
    balances = _locked_balances(workspace_ids, always_lock=len(workspace_ids) == 1, credited=credited)
    existing = _existing(drafts)
    vat_rate_bp = int(settings.DEFAULT_VAT_RATE_BP)

    fresh: list[tuple[InvoiceDraft, Totals]] = []
    for draft in drafts:
        if (str(draft.buyer.workspace_id), draft.source) in existing:
            continue
        buyer = draft.buyer
        totals = compute_totals(
            draft.lines,
            vat_rate_bp=vat_rate_bp if draft.vat_rate_bp is None else draft.vat_rate_bp,
            reverse_charge=is_reverse_charge(
                buyer_country=buyer.country,
                buyer_vat_number=buyer.vat_number,
                seller_country=settings.SELLER_COUNTRY,
            ),
            account_balance_cents=balances.get(buyer.workspace_id, 0),
        )
        if totals.total_cents < 0 and draft.corrects_id is None:
            raise errors.CreditNoteWithoutInvoice()
        # Two drafts of one workspace in one batch: the second sees what the first used,
        # or what a credit note put on the balance.
        credited_now = 0 if draft.cancels else max(-totals.total_cents, 0)
        balances[buyer.workspace_id] = totals.account_credit_remaining_cents + credited_now
        fresh.append((draft, totals))

    issued: dict[tuple[str, str], IssuedInvoice] = {}
    if fresh:
        issued = _write(fresh, now=now)
    result = []
    for draft in drafts:
        key = (str(draft.buyer.workspace_id), draft.source)
        if key in issued:
            result.append(issued[key])
        else:
            result.append(
                IssuedInvoice(
                    invoice_id=existing[key],
                    source=draft.source,
                    totals=None,
                    paid_at_issue=False,
                    existing=True,
                )
            )
    return result


def _is_credit_note(totals: Totals) -> bool:
    return totals.total_cents < 0


_INVOICE, _CREDIT_NOTE = str(DocumentType.INVOICE.value), str(DocumentType.CREDIT_NOTE.value)
_SERIES = {str(kind.value): series for kind, series in NUMBER_SERIES.items()}


def _document_type(totals: Totals) -> str:
    return _CREDIT_NOTE if totals.total_cents < 0 else _INVOICE


def _final_status(draft: InvoiceDraft, totals: Totals, *, paid: bool) -> str:
    """A credit note is credited to the account balance at issue, unless it cancels an
    unpaid invoice (issued) or records a refund to the card; an invoice with nothing left
    to pay is paid."""
    if _is_credit_note(totals):
        if draft.credit_status:
            return draft.credit_status
        return str((InvoiceStatus.ISSUED if draft.cancels else InvoiceStatus.CREDITED).value)
    return str((InvoiceStatus.PAID if paid else InvoiceStatus.OPEN).value)


def _numbers(fresh: list[tuple[InvoiceDraft, Totals]], now: datetime) -> list[str]:
    """Each document's number in its type's series, in the order of the drafts."""
    wanted = [_SERIES[_document_type(totals)] for _draft, totals in fresh]
    reserved = {
        series: iter(reserve_invoice_numbers(issued_at=now, count=wanted.count(series), series=series))
        for series in sorted(set(wanted))
    }
    return [next(reserved[series]) for series in wanted]


def _write(
    fresh: list[tuple[InvoiceDraft, Totals]], *, now: datetime
) -> dict[tuple[str, str], IssuedInvoice]:
    with _raw_cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Invoice._meta.db_table, len(fresh)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    numbers = _numbers(fresh, now)
    seller, seller_details = _seller()
    parties = _buyer_parties([draft for draft, _totals in fresh])

    def party(draft: InvoiceDraft) -> _Party:
        return parties[(str(draft.buyer.workspace_id), draft.source)]

    paid_now = [
        i
        for i, (_draft, totals) in zip(ids, fresh, strict=True)
        if totals.amount_due_cents == 0 and not _is_credit_note(totals)
    ]
    paid = set(paid_now)
    # The lines go in first and each invoice row is written final (open, or paid when
    # nothing is due): the line guard takes lines only for an invoice that is not
    # finalized, and the deferred foreign key is checked at commit.
    copy_rows(
        InvoiceLine,
        [
            {
                "invoice_id": invoice_id,
                "position": position,
                "kind": line.kind,
                "description": line.description,
                "quantity": line.quantity,
                "unit_amount_cents": line.unit_amount_cents,
                "fraction_numerator": line.fraction_numerator,
                "fraction_denominator": line.fraction_denominator,
                "fraction_unit": line.fraction_unit,
                "subject": line.subject,
                "seat_email": line.seat_email,
                "amount_cents": line.amount_cents,
                "period_start": line.period_start,
                "period_end": line.period_end,
                "metadata": dict(line.metadata),
            }
            for invoice_id, (draft, _totals) in zip(ids, fresh, strict=True)
            for position, line in enumerate(draft.lines)
        ],
    )
    copy_rows(
        Invoice,
        [
            {
                "id": invoice_id,
                "workspace_id": draft.buyer.workspace_id,
                "document_type": _document_type(totals),
                "corrects_id": draft.corrects_id if _is_credit_note(totals) else None,
                "currency": draft.buyer.currency,
                "language": party(draft).language,
                "status": _final_status(draft, totals, paid=invoice_id in paid),
                "number": number,
                "billing_reason": draft.billing_reason,
                "source": draft.source,
                "created_at": now,
                "issued_at": now,
                "paid_at": now if invoice_id in paid else None,
                # Cards on file are charged at issue: the invoice is payable on receipt.
                "due_at": None if _is_credit_note(totals) else now,
                "subtotal_cents": totals.subtotal_cents,
                "vat_rate_bp": totals.vat_rate_bp,
                "vat_cents": totals.vat_cents,
                "reverse_charge": totals.reverse_charge,
                "total_cents": totals.total_cents,
                "account_credit_applied_cents": totals.account_credit_applied_cents,
                "amount_due_cents": totals.amount_due_cents,
                **seller,
                "buyer_name": party(draft).name,
                "buyer_email": draft.buyer.email,
                "buyer_country": draft.buyer.country,
                "buyer_vat_number": draft.buyer.vat_number,
                "parties": {"seller": seller_details, "buyer": party(draft).details},
                "einvoice_profile": FACTURX_EN16931,
            }
            for invoice_id, number, (draft, totals) in zip(ids, numbers, fresh, strict=True)
        ],
    )
    copy_rows(
        AccountBalanceEntry,
        [
            {
                "workspace_id": draft.buyer.workspace_id,
                "amount_cents": -totals.account_credit_applied_cents,
                "currency": draft.buyer.currency,
                "reason": "applied_to_invoice",
                "source": f"invoice:{invoice_id}:applied",
                "invoice_id": invoice_id,
                "created_at": now,
                "balance_after_cents": totals.account_credit_remaining_cents,
            }
            for invoice_id, (draft, totals) in zip(ids, fresh, strict=True)
            if totals.account_credit_applied_cents
        ]
        + [
            {
                "workspace_id": draft.buyer.workspace_id,
                "amount_cents": -totals.total_cents,
                "currency": draft.buyer.currency,
                "reason": "credit_note",
                "source": f"invoice:{invoice_id}:credited",
                "invoice_id": invoice_id,
                "created_at": now,
                "balance_after_cents": totals.account_credit_remaining_cents - totals.total_cents,
            }
            for invoice_id, (draft, totals) in zip(ids, fresh, strict=True)
            if _is_credit_note(totals) and not draft.cancels
        ],
    )
    queue_pdf_renders(ids)
    if paid_now:
        queue_receipts(paid_now)
    return {
        (str(draft.buyer.workspace_id), draft.source): IssuedInvoice(
            invoice_id=invoice_id, source=draft.source, totals=totals, paid_at_issue=invoice_id in paid
        )
        for invoice_id, (draft, totals) in zip(ids, fresh, strict=True)
    }


def cancellation_draft(invoice: Invoice) -> InvoiceDraft:
    """The credit note that cancels an unpaid ``invoice``: its every line with the opposite
    quantity and amount, for the buyer and at the VAT rate the invoice was issued with
    (docs/rules/invoices.md#cancelling-an-unpaid-invoice)."""
    names = [f.name for f in dataclass_fields(DraftLine)]
    lines = []
    for row in invoice.lines.order_by("position", "id"):
        values = {name: getattr(row, name) for name in names}
        values["metadata"] = dict(row.metadata or {})
        values["quantity"] = -int(row.quantity)
        values["amount_cents"] = -int(row.amount_cents)
        lines.append(DraftLine(**values))
    return InvoiceDraft(
        buyer=Buyer.as_invoiced(invoice),
        billing_reason=invoice.billing_reason,
        source=f"cancel:{invoice.pk}",
        lines=lines,
        corrects_id=invoice.pk,
        cancels=True,
        vat_rate_bp=int(invoice.vat_rate_bp),
    )


def invoice_create(
    *,
    workspace: Workspace,
    lines: Sequence[DraftLine],
    billing_reason: str,
    source: str,
    now: datetime,
    corrects_id: int | None = None,
) -> Invoice:
    """Issue one invoice for ``workspace`` (see :func:`issue_invoices`), returned as a model.

    Idempotent on ``(workspace, source)``: a second call with the same source returns the
    first invoice unchanged.
    """
    with transaction.atomic():
        (issued,) = issue_invoices(
            [
                InvoiceDraft(
                    buyer=Buyer.of(workspace),
                    billing_reason=billing_reason,
                    source=source,
                    lines=lines,
                    corrects_id=corrects_id,
                )
            ],
            now=now,
        )
    return Invoice.objects.select_related("workspace").get(pk=issued.invoice_id)
