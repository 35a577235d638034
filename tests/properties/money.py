"""The money invariants: no credit for time never paid, and the money billed against
the value of the time held (:mod:`tests.properties.model`), less what the product forwent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from invoices.models import (
    AccountBalanceEntry,
    InvoiceStatus,
)
from teams.models import ChargeStatus, SeatCharge
from tests.properties.checks import Document, excluding_vat
from tests.properties.model import Observation, expected_by_key
from workspaces.models import Workspace

# --- money ----------------------------------------------------------------------------------


def check_no_credit_for_unpaid_seats(workspace: Workspace, documents: Sequence[Document]) -> None:
    """A seat whose charge was cancelled unpaid (docs/rules/invoices.md#cancelling-an-unpaid-invoice)
    gets no credit for unused time of that charge (docs/rules/proration.md#removing-a-seat
    credits time paid for): no removal credit of the seat falls within the cancelled span."""
    given = [
        (document.invoice.source, document.invoice.issued_at, -document.invoice.total_cents)
        for document in documents
        if document.is_credit_note and document.invoice.workspace_id == workspace.pk
    ]
    given += list(
        AccountBalanceEntry.objects.filter(
            workspace=workspace, invoice__isnull=True, amount_cents__gt=0
        ).values_list("source", "created_at", "amount_cents")
    )
    credits: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for source, at, amount in given:
        # A released seat's credit is keyed by the seat: "seat-removal:<seat id>[:<n>]".
        parts = source.split(":")
        keyed = source.startswith("seat-") and len(parts) >= 2 and parts[1].isdigit()
        if keyed and at is not None:
            credits[int(parts[1])].append((at, amount))
    if not credits:
        return
    for document in documents:
        invoice = document.invoice
        if invoice.workspace_id != workspace.pk or invoice.status != InvoiceStatus.VOID:
            continue
        for line in document.lines:
            seat = (line.metadata or {}).get("seat")
            if not isinstance(seat, int) or line.period_start is None or line.period_end is None:
                continue
            for at, amount in credits.get(seat, []):
                assert not (line.period_start <= at < line.period_end), (
                    f"{workspace.name}: seat {seat} was credited {amount} on {at.isoformat()} for time "
                    f"its charge on {invoice.number} ({line.amount_cents}), cancelled unpaid, never paid"
                )


@dataclass
class Forgone:
    """What the machine saw the product give up or replace, by its rules."""

    #: Invoices of a customer's confirmation whose charge was declined: voided, nothing applied.
    declined: set[int]
    #: Seat charges cancelled unbilled by an ending subscription (forgone) or replaced by a
    #: seat's new billing period planned the same day (not forgone: the seat never held them).
    forgone_charges: set[int]
    #: Account credits put on the balance directly for a billing change (no invoice to
    #: correct), by entry source: their amount excluding VAT.
    direct_credit_ht: dict[str, int]
    #: Extra credits bought and paid: a one-off price, not time.
    packs_cents: int = 0
    #: Invoices of a customer's confirmation whose change waits for the payer's
    #: authentication: nothing is held for them yet. Paid, the change is applied and the
    #: invoice counts; lapsed or refused, it moves to ``declined``.
    waiting: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Money:
    billed: int
    expected: Fraction
    forgone: int
    lines: int
    #: What the failure message shows: the documents and the model, item by item.
    detail: str = ""

    @property
    def gap(self) -> Fraction:
        return self.billed - (self.expected - self.forgone)


def money_of(
    workspace: Workspace,
    documents: Sequence[Document],
    observations: Sequence[Observation],
    forgone: Forgone,
    cancellations: set[int],
) -> Money:
    """Billed, excluding VAT: the invoices not voided, the credit notes, the seat charges not
    invoiced yet and the credits put on the account balance directly; against the value of
    what was held (:func:`tests.properties.model.expected_cents`) plus the packs bought,
    less what the product forwent."""
    billed = forgone_cents = lines = 0
    detail: list[str] = []
    zone = getattr(workspace, "billing_zone", None) or ZoneInfo("UTC")
    for document in documents:
        invoice = document.invoice
        if invoice.workspace_id != workspace.pk:
            continue
        detail.append(
            f"  {invoice.number} {invoice.issued_at:%Y-%m-%d %H:%M} {invoice.billing_reason} {invoice.status} "
            f"{invoice.subtotal_cents}: "
            + "; ".join(
                f"{line.kind} {line.amount_cents} {getattr(line, 'fraction_numerator', '')}/{getattr(line, 'fraction_denominator', '')}"
                f" {line.period_start.astimezone(zone):%Y-%m-%d}→{line.period_end.astimezone(zone):%Y-%m-%d}"
                if line.period_start and line.period_end
                else f"{line.kind} {line.amount_cents}"
                for line in document.lines
            )
        )
        if invoice.pk in forgone.waiting:
            detail[-1] += " (its change waits for authentication)"
            continue
        if invoice.pk in cancellations:
            # A void invoice and the credit note cancelling it: nothing billed. A declined
            # change was never applied; anything else was held unpaid, and forgone.
            if invoice.status == InvoiceStatus.VOID and invoice.pk not in forgone.declined:
                forgone_cents += invoice.subtotal_cents
                lines += len(document.lines)
            continue
        billed += invoice.subtotal_cents
        lines += len(document.lines)
    for amount in SeatCharge.objects.filter(workspace=workspace, status=ChargeStatus.PENDING).values_list(
        "amount_cents", flat=True
    ):
        billed += amount
        lines += 1
        detail.append(f"  pending seat charge {amount}")
    for charge in SeatCharge.objects.filter(pk__in=forgone.forgone_charges, workspace=workspace):
        forgone_cents += charge.amount_cents
        lines += 1
        detail.append(f"  forgone seat charge {charge.amount_cents}")
    for source, reason, amount in AccountBalanceEntry.objects.filter(
        workspace=workspace, invoice__isnull=True, amount_cents__gt=0
    ).values_list("source", "reason", "amount_cents"):
        # Put on the balance without a document (nothing was invoiced to correct): VAT
        # included, as a credit note would have given it.
        ht = forgone.direct_credit_ht.get(
            source, excluding_vat(amount) if reason.startswith("seat") else amount
        )
        billed -= ht
        lines += 1
        detail.append(f"  account credit {source} {amount} ({ht} excl. VAT)")
    by_key = expected_by_key(observations)
    detail.extend(
        f"  held {key}: {float(value):.2f}" for key, value in sorted(by_key.items(), key=str) if value
    )
    return Money(
        billed=billed,
        expected=sum(by_key.values(), Fraction(0)) + forgone.packs_cents,
        forgone=forgone_cents,
        lines=lines,
        detail="\n".join(detail),
    )


def check_money(money: Money, label: str) -> None:
    """docs/rules/proration.md: net of credits, what is billed for time is price × time
    held, within a cent per line (each line rounded once, half-up)."""
    assert abs(money.gap) <= money.lines, (
        f"{label}: billed {money.billed} (excl. VAT), held {float(money.expected):.2f} "
        f"less forgone {money.forgone}: off by {float(money.gap):.2f} over {money.lines} lines\n{money.detail}"
    )
