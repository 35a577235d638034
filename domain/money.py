"""Money in integer minor units, and the project's single rounding rule.

Rounding rule (docs/rules/proration.md#rounding): every division that produces money
(proration, VAT, scaling) is rounded to the nearest integer minor unit, **half away from
zero** (1.5 -> 2, 2.5 -> 3, -2.5 -> -3). It is computed with integer arithmetic only,
never with floats, and it is written once, in :func:`round_half_up`. Every other module
that needs to round an amount calls it.

Amounts are integer minor units (``amount_cents``) with an ISO 4217 currency beside
them; :func:`round_half_up` refuses floats so that no binary fraction can creep into a
price, a tax or a credit.
"""

from __future__ import annotations

from domain.checks import require_int

BASIS_POINTS_PER_UNIT = 10_000


def round_half_up(numerator: int, denominator: int) -> int:
    """Return ``numerator / denominator`` rounded to an integer, half away from zero.

    Exact integer arithmetic: ``round_half_up(5, 2) == 3``,
    ``round_half_up(-5, 2) == -3``, ``round_half_up(7, 3) == 2``.
    """
    # bool is a subclass of int; True as an amount is always a bug.
    require_int(numerator, "numerator")
    require_int(denominator, "denominator")
    if denominator == 0:
        raise ZeroDivisionError("round_half_up: denominator is zero")
    negative = (numerator < 0) != (denominator < 0)
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    if 2 * remainder >= abs(denominator):
        quotient += 1
    return -quotient if negative else quotient
