"""Invoice arithmetic: lines → subtotal, VAT, total, account credit applied, amount due.

Pure (no ORM, no clock): the billing previews and the invoice service both call
:func:`compute_totals`, so what a customer confirms is what the invoice says, to the cent.

Rule (docs/rules/invoices.md#totals):

- subtotal = Σ line amounts (credit lines are negative, so it may be negative);
- VAT = round_half_up(subtotal × rate), half away from zero, so a negative subtotal (a
  credit note) carries negative VAT; 0 when the sale is reverse-charged;
- total = subtotal + VAT;
- account credit applied = min(account balance, max(total, 0));
- amount due = total − account credit applied, never negative.

A negative total (a net credit) is a credit note (docs/rules/invoices.md#credit-notes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.checks import require_int
from domain.vat import vat_cents


@dataclass(frozen=True)
class DraftLine:
    """One invoice line before it is stored: its kind and its numbers, from which its words
    are written (docs/rules/invoices.md#line-words). ``quantity × unit_amount_cents ×
    fraction_numerator / fraction_denominator``, rounded half-up to the cent, is
    ``amount_cents``; the quantity is negative on a credit.

    ``subject`` names what the line bills (the plan or the add-on; ``""`` when its kind
    needs no name); ``None`` marks a line whose words are ``description`` as stored (a
    line copied from one issued before lines were named).
    """

    kind: str
    amount_cents: int
    quantity: int = 1
    unit_amount_cents: int | None = None
    fraction_numerator: int | None = None
    fraction_denominator: int | None = None
    fraction_unit: str = ""
    subject: str | None = None
    seat_email: str = ""
    period_start: datetime | None = None
    period_end: datetime | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int
    vat_rate_bp: int
    vat_cents: int
    reverse_charge: bool
    total_cents: int
    account_credit_applied_cents: int
    amount_due_cents: int
    account_credit_remaining_cents: int


def compute_totals(
    lines: Sequence[DraftLine], *, vat_rate_bp: int, reverse_charge: bool, account_balance_cents: int
) -> Totals:
    """The totals of an invoice made of ``lines`` for a customer holding that account balance."""
    require_int(vat_rate_bp, "vat_rate_bp")
    require_int(account_balance_cents, "account_balance_cents")
    if vat_rate_bp < 0:
        raise ValueError("vat_rate_bp cannot be negative")
    if account_balance_cents < 0:
        raise ValueError("account_balance_cents cannot be negative")
    subtotal = sum(require_int(line.amount_cents, "amount_cents") for line in lines)
    vat = vat_cents(subtotal, vat_rate_bp=vat_rate_bp, reverse_charge=reverse_charge)
    total = subtotal + vat
    applied = min(account_balance_cents, max(total, 0))
    return Totals(
        subtotal_cents=subtotal,
        vat_rate_bp=vat_rate_bp,
        vat_cents=vat,
        reverse_charge=reverse_charge,
        total_cents=total,
        account_credit_applied_cents=applied,
        amount_due_cents=max(total - applied, 0),
        account_credit_remaining_cents=account_balance_cents - applied,
    )
