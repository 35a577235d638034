"""Money in integer minor units, and the project's single rounding rule.

Rounding rule: every division that produces money (proration, VAT, scaling) is
rounded to the nearest integer minor unit, **half away from zero** (1.5 -> 2,
2.5 -> 3, -2.5 -> -3). It is computed with integer arithmetic only, never with
floats, and it is written once, in :func:`round_half_up`. Every other module
that needs to round an amount calls it.

Amounts are integer minor units (``amount_cents``) paired with an ISO 4217
currency code; :class:`Money` refuses floats so that no binary fraction can
creep into a price, a tax or a credit.
"""

from __future__ import annotations

from dataclasses import dataclass

BASIS_POINTS_PER_UNIT = 10_000


class CurrencyMismatch(ValueError):
    """Raised when amounts in two different currencies are combined or compared."""


def _require_int(value: object, name: str) -> int:
    # bool is a subclass of int; True as an amount is always a bug.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


def round_half_up(numerator: int, denominator: int) -> int:
    """Return ``numerator / denominator`` rounded to an integer, half away from zero.

    Exact integer arithmetic: ``round_half_up(5, 2) == 3``,
    ``round_half_up(-5, 2) == -3``, ``round_half_up(7, 3) == 2``.
    """
    _require_int(numerator, "numerator")
    _require_int(denominator, "denominator")
    if denominator == 0:
        raise ZeroDivisionError("round_half_up: denominator is zero")
    negative = (numerator < 0) != (denominator < 0)
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    if 2 * remainder >= abs(denominator):
        quotient += 1
    return -quotient if negative else quotient


def _validate_currency(currency: object) -> str:
    if not isinstance(currency, str):
        raise TypeError(f"currency must be a str, got {type(currency).__name__}")
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha() and currency.isupper()):
        raise ValueError(f"currency must be a 3-letter upper-case ISO 4217 code, got {currency!r}")
    return currency


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of integer minor units (cents) in one ISO 4217 currency."""

    amount_cents: int
    currency: str

    def __post_init__(self) -> None:
        _require_int(self.amount_cents, "amount_cents")
        _validate_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def is_zero(self) -> bool:
        return self.amount_cents == 0

    def _check_same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency} amounts")

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same_currency(other)
        return Money(self.amount_cents + other.amount_cents, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same_currency(other)
        return Money(self.amount_cents - other.amount_cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_cents, self.currency)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same_currency(other)
        return self.amount_cents < other.amount_cents

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same_currency(other)
        return self.amount_cents <= other.amount_cents

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same_currency(other)
        return self.amount_cents > other.amount_cents

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same_currency(other)
        return self.amount_cents >= other.amount_cents

    def percent(self, basis_points: int) -> Money:
        """This amount times ``basis_points`` / 10 000 (2000 bp = 20 %), rounded."""
        _require_int(basis_points, "basis_points")
        return self.scaled(basis_points, BASIS_POINTS_PER_UNIT)

    def scaled(self, numerator: int, denominator: int) -> Money:
        """This amount times ``numerator / denominator``, rounded half up."""
        _require_int(numerator, "numerator")
        _require_int(denominator, "denominator")
        return Money(round_half_up(self.amount_cents * numerator, denominator), self.currency)
