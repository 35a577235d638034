"""What a subscription costs: seats, period amounts and invoice lines with their numbers.

No queries and no clock: callers pass the plan, price, counts and dates. The same
functions build previews, invoices, the next renewal amount and the bulk renewal sweep,
so they always agree to the cent.

Seats (docs/rules/plans.md#seats, docs/rules/proration.md#co-terming): a plan's included
seats are covered by its base price; ``extra_seats`` are seats bought beyond them, in
advance, as capacity that members fill first; every licensed member beyond
``included + extra`` holds a paid seat (:class:`teams.models.Seat`) with its own billing
period. A paid seat on the subscription's interval is co-termed with it
and billed by the subscription's invoices; a paid seat on another interval is billed only
by its own anniversary renewal (the daily seat job). So the subscription bills
``extra_seats + co-termed paid seats`` (:func:`subscription_billable_seats`; none on
plans whose seats are free), and a change prices the seats as
:func:`domain.seat_plan.plan_seats` leaves them.

A line carries its kind and its numbers — quantity, unit price, the fraction of the
period with its unit — and the names of what it bills; its words are written from them
for each reader (docs/rules/invoices.md#line-words). quantity × unit price × fraction,
rounded half-up to the cent, is its amount; a credit has a negative quantity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.money import round_half_up
from domain.periods import MONTHS_PER_YEAR, Interval
from domain.proration import Proration
from invoices.totals import DraftLine
from subscriptions.models import Plan, Price

#: Weeks in a year, to turn an add-on's monthly amount into a weekly one.
WEEKS_PER_YEAR = 52


@dataclass(frozen=True)
class AddOnLine:
    name: str
    monthly_amount: int
    quantity: int
    #: The add-on's catalog code and the credits one unit adds to each monthly allowance
    #: (docs/rules/plans.md#add-ons); the renewal sweep, which only prices, leaves them out.
    code: str = ""
    monthly_credits: int = 0


def seat_capacity(plan: Plan, licensed: int, extra_seats: int) -> int:
    return max(licensed, plan.included_seats + extra_seats)


def subscription_billable_seats(plan: Plan, *, extra_seats: int, coterm_paid_seats: int) -> int:
    """The seats a subscription's invoice bills at ``seat_amount`` each: the extra seats
    bought in advance and the paid seats co-termed with it (paid seats on another
    interval are billed by their own renewal, never here)."""
    if plan.seats_are_free:
        return 0
    return int(extra_seats) + int(coterm_paid_seats)


def period_amount(price: Price, billable: int) -> int:
    """Plan base plus billable seats for one whole period, in cents."""
    return int(price.base_amount) + int(price.seat_amount) * billable


def addon_period_amount(monthly_amount: int, quantity: int, interval: str) -> int:
    """An add-on's price for one period: monthly × 12 a year, monthly × 12 / 52 a week."""
    monthly = monthly_amount * quantity
    interval = Interval(interval)
    if interval is Interval.YEAR:
        return monthly * MONTHS_PER_YEAR
    if interval is Interval.WEEK:
        return round_half_up(monthly * MONTHS_PER_YEAR, WEEKS_PER_YEAR)
    return monthly


def fraction(proration: Proration) -> dict[str, Any]:
    """A proration as a line's fraction: 5/31 days, 10/12 months."""
    return {
        "fraction_numerator": proration.remaining_units,
        "fraction_denominator": proration.total_units,
        "fraction_unit": proration.unit,
    }


def _seats_metadata(plan: Plan, count: int) -> dict[str, Any]:
    # "Extra" seats when the plan includes some: the line bills those beyond them.
    return {"seats": count, "extra": bool(plan.included_seats)}


def period_lines(
    *,
    plan: Plan,
    price: Price,
    billable: int,
    addons: Sequence[AddOnLine],
    start: datetime,
    end: datetime,
) -> list[DraftLine]:
    """The lines of one whole period: plan base, billable seats, add-ons (zero lines left out)."""
    lines: list[DraftLine] = []
    if price.base_amount:
        lines.append(
            DraftLine(
                kind="plan",
                subject=plan.name,
                amount_cents=int(price.base_amount),
                quantity=1,
                unit_amount_cents=int(price.base_amount),
                period_start=start,
                period_end=end,
                metadata={"interval": price.interval},
            )
        )
    if billable and price.seat_amount:
        lines.append(
            DraftLine(
                kind="seats",
                subject=plan.name,
                amount_cents=int(price.seat_amount) * billable,
                quantity=billable,
                unit_amount_cents=int(price.seat_amount),
                period_start=start,
                period_end=end,
                metadata=_seats_metadata(plan, billable),
            )
        )
    for addon in addons:
        unit = addon_period_amount(addon.monthly_amount, 1, price.interval)
        if unit and addon.quantity:
            lines.append(
                DraftLine(
                    kind="addon",
                    subject=addon.name,
                    amount_cents=unit * addon.quantity,
                    quantity=addon.quantity,
                    unit_amount_cents=unit,
                    period_start=start,
                    period_end=end,
                )
            )
    return lines


def prorated_plan_line(
    *, plan: Plan, full_amount: int, proration: Proration, start: datetime, end: datetime
) -> DraftLine:
    """The new plan's charge for the rest of the period: 1 × its price for the whole
    period × the fraction left, e.g. 1 × 240,00 € × 12/30 days = 96,00 €."""
    return _prorated_line(
        kind="plan_proration",
        plan=plan,
        quantity=1,
        full_amount=full_amount,
        proration=proration,
        start=start,
        end=end,
    )


def unused_time_line(
    *, plan: Plan, full_amount: int, proration: Proration, start: datetime, end: datetime
) -> DraftLine:
    """The credit for the old plan's unused time, a negative line:
    −1 × 100,00 € × 12/30 days = −40,00 €."""
    return _prorated_line(
        kind="credit",
        plan=plan,
        quantity=-1,
        full_amount=full_amount,
        proration=proration,
        start=start,
        end=end,
    )


def _prorated_line(
    *,
    kind: str,
    plan: Plan,
    quantity: int,
    full_amount: int,
    proration: Proration,
    start: datetime,
    end: datetime,
) -> DraftLine:
    """One line for part of a period of ``plan``, charged (quantity 1) or credited (−1)."""
    return DraftLine(
        kind=kind,
        subject=plan.name,
        amount_cents=quantity * proration.amount_cents,
        quantity=quantity,
        unit_amount_cents=int(full_amount),
        **fraction(proration),
        period_start=start,
        period_end=end,
    )


def seat_change_line(
    *,
    plan: Plan,
    delta: int,
    seat_amount: int,
    proration: Proration,
    start: datetime,
    end: datetime,
) -> DraftLine:
    """Seats added (charged for the rest of the period) or removed (credited), one line:
    ``delta`` × the seat price × the fraction of the period, with ``proration`` the
    proration of ``seat_amount × |delta|``, e.g. 2 × 15,00 € × 5/31 days = 4,84 €."""
    sign = 1 if delta > 0 else -1
    return DraftLine(
        kind="seat_proration",
        subject=plan.name,
        amount_cents=sign * proration.amount_cents,
        quantity=delta,
        unit_amount_cents=seat_amount,
        **fraction(proration),
        period_start=start,
        period_end=end,
        metadata=_seats_metadata(plan, delta),
    )


def addon_change_line(
    *,
    name: str,
    delta: int,
    unit_amount: int,
    proration: Proration,
    start: datetime,
    end: datetime,
) -> DraftLine:
    """Add-on units added (charged for the rest of the period) or removed (credited), one
    line like :func:`seat_change_line`: ``delta`` × the add-on's price for the period ×
    the fraction left, with ``proration`` the proration of ``unit_amount × |delta|``,
    e.g. 1 × 10,00 € × 21/30 days = 7,00 €."""
    sign = 1 if delta > 0 else -1
    return DraftLine(
        kind="addon",
        subject=name,
        amount_cents=sign * proration.amount_cents,
        quantity=delta,
        unit_amount_cents=unit_amount,
        **fraction(proration),
        period_start=start,
        period_end=end,
    )


def own_seat_credit_line(
    *,
    plan_name: str,
    email: str,
    price_cents: int,
    proration: Proration,
    start: datetime,
    end: datetime,
) -> DraftLine:
    """The unused time of a paid seat billed on its own interval until now, credited when
    a change ends it or makes the subscription bill it, e.g. "Unused time on a Pro seat —
    a@b.c": −1 × 12,99 € × 20/31 days = −8,38 €."""
    return DraftLine(
        kind="credit",
        subject=plan_name,
        seat_email=email,
        amount_cents=-proration.amount_cents,
        quantity=-1,
        unit_amount_cents=int(price_cents),
        **fraction(proration),
        period_start=start,
        period_end=end,
    )


def own_seat_charge_line(
    *,
    plan_name: str,
    email: str,
    price_cents: int,
    proration: Proration,
    start: datetime,
    end: datetime,
) -> DraftLine:
    """A paid seat that stays on its own interval at the new plan's price, charged for the
    rest of its period, e.g. "Max seat — a@b.c": 1 × 24,99 € × 20/31 days = 16,12 €."""
    return DraftLine(
        kind="seat_proration",
        subject=plan_name,
        seat_email=email,
        amount_cents=proration.amount_cents,
        quantity=1,
        unit_amount_cents=int(price_cents),
        **fraction(proration),
        period_start=start,
        period_end=end,
    )


def credit_packs_line(*, packs: int, pack_size: int, pack_amount: int) -> DraftLine:
    """A one-off purchase of credit packs: 3 packs of 1 000 000 credits × 5,00 € = 15,00 €."""
    return DraftLine(
        kind="extra_credits",
        subject="",
        amount_cents=packs * pack_amount,
        quantity=packs,
        unit_amount_cents=pack_amount,
        metadata={"credits": packs * pack_size, "packs": packs, "pack_size": pack_size},
    )
