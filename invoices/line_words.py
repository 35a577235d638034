"""Invoice line words, written from the line's kind and numbers (docs/rules/invoices.md#line-words).

A line stores no words: its kind, its numbers (quantity, unit price, the fraction of a
period with its unit) and the names of what it bills (the plan or the add-on, the seat
holder). :func:`line_words` writes them in one language — the reader's on screen, the
invoice's in its PDF — with the quantity, unit price, fraction and amount each in its
own column, so that quantity × unit price × fraction = amount reads on every line:

    Team Starter, sièges supplémentaires    2 × 15,00 € × 5/31 jours = 4,84 €
    Team Starter, extra seats               2 × €15.00 × 5/31 days = €4.84

Words come from the translation catalogs under ``translation.override(language)`` and
figures from :mod:`workspaces.formatting` (Babel), so the language asked for decides both,
whatever the active language. A line issued before lines were named (``subject`` is
None) keeps the words it was issued with, shown as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.utils import translation
from django.utils.translation import npgettext, pgettext

from invoices.models import FractionUnit, LineKind
from workspaces.formatting import format_money, format_number

#: The seat-charge kind the seat job records in a line's metadata for a seat added back
#: the day it was removed (its removal credit is charged again).
SEAT_ADDED_AGAIN = "readded"


class LineNumbers(Protocol):
    """What the words are written from: an :class:`~invoices.totals.DraftLine` or a stored
    :class:`~invoices.models.InvoiceLine`."""

    @property
    def kind(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit_amount_cents(self) -> int | None: ...
    @property
    def amount_cents(self) -> int: ...
    @property
    def fraction_numerator(self) -> int | None: ...
    @property
    def fraction_denominator(self) -> int | None: ...
    @property
    def fraction_unit(self) -> str: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def seat_email(self) -> str: ...
    @property
    def metadata(self) -> Mapping[str, Any]: ...
    @property
    def description(self) -> str: ...


@dataclass(frozen=True)
class LineWords:
    """One line in one language: its words and its figures, column by column."""

    #: What the line bills, e.g. "Siège Pro — c@exemple.fr".
    description: str
    quantity: str
    #: Empty when the line has no unit price.
    unit_price: str
    #: Empty for a whole period, e.g. "5/31 jours".
    fraction: str
    amount: str

    @property
    def formula(self) -> str:
        """The whole line's arithmetic, e.g. "2 × 15,00 € × 5/31 jours = 4,84 €"."""
        if not self.unit_price:
            return self.amount
        factors = [self.quantity, self.unit_price, *([self.fraction] if self.fraction else [])]
        return f"{' × '.join(factors)} = {self.amount}"


def line_words(line: LineNumbers, *, currency: str, language: str) -> LineWords:
    """``line`` in ``language``: its words and its figures in that language's format."""
    with translation.override(language):
        description = _description(line, language)
        fraction = _fraction(line, language)
    unit = line.unit_amount_cents
    return LineWords(
        description=description,
        quantity=format_number(line.quantity, language),
        unit_price=format_money(unit, currency, language) if unit is not None else "",
        fraction=fraction,
        amount=format_money(line.amount_cents, currency, language),
    )


def _fraction(line: LineNumbers, language: str) -> str:
    numerator, denominator = line.fraction_numerator, line.fraction_denominator
    if numerator is None or denominator is None:
        return ""
    values = {
        "numerator": format_number(numerator, language),
        "denominator": format_number(denominator, language),
    }
    if line.fraction_unit == FractionUnit.MONTH:
        return (
            npgettext(
                "invoice line",
                "%(numerator)s/%(denominator)s month",
                "%(numerator)s/%(denominator)s months",
                denominator,
            )
            % values
        )
    return (
        npgettext(
            "invoice line",
            "%(numerator)s/%(denominator)s day",
            "%(numerator)s/%(denominator)s days",
            denominator,
        )
        % values
    )


def _description(line: LineNumbers, language: str) -> str:
    subject = line.subject
    if subject is None:
        return line.description
    names = {"plan": subject, "email": line.seat_email}
    kind = line.kind
    if kind == LineKind.PLAN:
        return pgettext("invoice line", "%(plan)s plan") % names
    if kind == LineKind.PLAN_PRORATION:
        return pgettext("invoice line", "%(plan)s plan, rest of the period") % names
    if kind == LineKind.ADDON:
        return pgettext("invoice line", "%(addon)s add-on") % {"addon": subject}
    if kind == LineKind.EXTRA_CREDITS:
        pack_size = line.metadata.get("pack_size")
        if not isinstance(pack_size, int):
            return pgettext("invoice line", "Extra credits")
        return pgettext("invoice line", "Extra credits, packs of %(size)s credits") % {
            "size": format_number(pack_size, language)
        }
    if kind == LineKind.CREDIT:
        if line.seat_email:
            return pgettext("invoice line", "Unused time on a %(plan)s seat — %(email)s") % names
        return pgettext("invoice line", "Unused time on %(plan)s") % names
    # Seats: a seat holder's own seat, or the subscription's seats.
    if line.seat_email:
        if line.metadata.get("kind") == SEAT_ADDED_AGAIN:
            return (
                pgettext(
                    "invoice line",
                    "%(plan)s seat — %(email)s, added again the same day: the removal credit is taken back",
                )
                % names
            )
        return pgettext("invoice line", "%(plan)s seat — %(email)s") % names
    if line.metadata.get("extra"):
        return pgettext("invoice line", "%(plan)s, extra seats") % names
    return pgettext("invoice line", "%(plan)s seats") % names
