"""What makes a draft line issuable: a known kind, integer amounts, aware period bounds in
order, and numbers that make its amount (docs/rules/invoices.md#line-words)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.checks import is_int
from domain.money import round_half_up
from invoices import errors
from invoices.models import FractionUnit, LineKind
from invoices.totals import DraftLine

_LINE_KINDS = frozenset(LineKind.values)
_FRACTION_UNITS = frozenset(FractionUnit.values)


def _numbers_make_amount(line: DraftLine) -> bool:
    """Whether the line reads right (docs/rules/invoices.md#line-words): a named line's
    quantity × unit price × fraction, rounded half-up to the cent, is its amount; a line
    keeping the words it was issued with (no subject, a copy of an old line) has words."""
    if line.subject is None:
        return bool(str(line.description).strip())
    numerator, denominator, unit = line.fraction_numerator, line.fraction_denominator, line.fraction_unit
    if not is_int(line.unit_amount_cents) or not isinstance(line.subject, str):
        return False
    if numerator is None and denominator is None and not unit:
        return line.quantity * line.unit_amount_cents == line.amount_cents
    if not (is_int(numerator) and is_int(denominator) and unit in _FRACTION_UNITS):
        return False
    return 0 <= numerator <= denominator and line.amount_cents == round_half_up(
        line.quantity * line.unit_amount_cents * numerator, denominator
    )


def validate_lines(lines: Sequence[DraftLine]) -> None:
    if not lines:
        raise errors.InvoiceWithoutLines()
    for line in lines:
        start, end = line.period_start, line.period_end
        if (
            line.kind not in _LINE_KINDS
            or not is_int(line.amount_cents)
            or not is_int(line.quantity)
            or not (line.unit_amount_cents is None or is_int(line.unit_amount_cents))
            or not _numbers_make_amount(line)
            or (start is not None and start.utcoffset() is None)
            or (end is not None and end.utcoffset() is None)
            or (start is not None and end is not None and end < start)
        ):
            raise errors.InvoiceLineInvalid()
