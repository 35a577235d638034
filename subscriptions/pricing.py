"""What a subscription costs: seats, period amounts and invoice lines with their formula.

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
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from domain.money import round_half_up
from domain.periods import MONTHS_PER_YEAR, Interval
from domain.proration import Proration
from invoices.totals import DraftLine
from subscriptions.models import Plan, Price
from workspaces.formatting import format_money, format_number

#: Weeks in a year, to turn an add-on's monthly amount into a weekly one.
WEEKS_PER_YEAR = 52

_INTERVAL_WORDS = {Interval.WEEK: "1 week", Interval.MONTH: "1 month", Interval.YEAR: "1 year"}


@dataclass(frozen=True)
class AddOnLine:
    name: str
    monthly_amount: int
    quantity: int


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


@functools.lru_cache(maxsize=4096)
def _formatted(amount_cents: int, currency: str, locale: str) -> str:
    return format_money(amount_cents, currency, locale)


def money(amount_cents: int, currency: str) -> str:
    # Line descriptions are stored on invoices: formatted in the invoice language.
    # Cached: a renewal run formats the same few prices thousands of times.
    return _formatted(amount_cents, currency, settings.LANGUAGE_CODE)


def _seats_words(plan: Plan, count: int) -> str:
    noun = "seat" if abs(count) == 1 else "seats"
    return f"{count} extra {noun}" if plan.included_seats else f"{count} {noun}"


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
    currency = price.currency
    lines: list[DraftLine] = []
    interval_words = _INTERVAL_WORDS[Interval(price.interval)]
    if price.base_amount:
        lines.append(
            DraftLine(
                kind="plan",
                description=f"{plan.name}, {interval_words} × {money(price.base_amount, currency)}",
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
                description=f"{plan.name}, {_seats_words(plan, billable)} × {money(price.seat_amount, currency)}",
                amount_cents=int(price.seat_amount) * billable,
                quantity=billable,
                unit_amount_cents=int(price.seat_amount),
                period_start=start,
                period_end=end,
                metadata={"seats": billable},
            )
        )
    for addon in addons:
        unit = addon_period_amount(addon.monthly_amount, 1, price.interval)
        if unit and addon.quantity:
            lines.append(
                DraftLine(
                    kind="addon",
                    description=f"{addon.name}, {addon.quantity} × {money(unit, currency)}",
                    amount_cents=unit * addon.quantity,
                    quantity=addon.quantity,
                    unit_amount_cents=unit,
                    period_start=start,
                    period_end=end,
                )
            )
    return lines


def prorated_plan_line(
    *, plan: Plan, full_amount: int, currency: str, proration: Proration, start: datetime, end: datetime
) -> DraftLine:
    """The new plan's charge for the rest of the period, e.g. "Business, 12 of 30 days × 240,00 €"."""
    return _prorated_line(
        kind="plan_proration",
        description=f"{plan.name}, {proration.describe()} × {money(full_amount, currency)}",
        amount_cents=proration.amount_cents,
        proration=proration,
        start=start,
        end=end,
    )


def unused_time_line(
    *, plan: Plan, full_amount: int, currency: str, proration: Proration, start: datetime, end: datetime
) -> DraftLine:
    """The credit for the old plan's unused time, a negative line."""
    return _prorated_line(
        kind="credit",
        description=f"Unused time on {plan.name}, {proration.describe()} × {money(full_amount, currency)}",
        amount_cents=-proration.amount_cents,
        proration=proration,
        start=start,
        end=end,
    )


def _prorated_line(
    *, kind: str, description: str, amount_cents: int, proration: Proration, start: datetime, end: datetime
) -> DraftLine:
    """One line for part of a period; the proration's units go in the metadata."""
    return DraftLine(
        kind=kind,
        description=description,
        amount_cents=amount_cents,
        quantity=1,
        unit_amount_cents=amount_cents,
        period_start=start,
        period_end=end,
        metadata={
            "remaining": proration.remaining_units,
            "total": proration.total_units,
            "unit": proration.unit,
        },
    )


def seat_change_line(
    *,
    plan: Plan,
    delta: int,
    seat_amount: int,
    currency: str,
    proration: Proration,
    start: datetime,
    end: datetime,
) -> DraftLine:
    """Seats added (charged for the rest of the period) or removed (credited), one line."""
    sign = 1 if delta > 0 else -1
    return DraftLine(
        kind="seat_proration",
        description=(
            f"{plan.name}, {_seats_words(plan, delta)}, {proration.describe()} × "
            f"{money(seat_amount * abs(delta), currency)}"
        ),
        amount_cents=sign * proration.amount_cents,
        quantity=delta,
        unit_amount_cents=seat_amount,
        period_start=start,
        period_end=end,
        metadata={"seats": delta, "remaining": proration.remaining_units, "total": proration.total_units},
    )


def own_seat_credit_line(
    *,
    plan_name: str,
    email: str,
    price_cents: int,
    currency: str,
    proration: Proration,
    start: datetime,
    end: datetime,
) -> DraftLine:
    """The unused time of a paid seat billed on its own interval until now, credited when
    a change ends it or makes the subscription bill it, e.g.
    "Unused time on a Pro seat — a@b.c, 20 of 31 days × 12,99 €"."""
    return DraftLine(
        kind="credit",
        description=f"Unused time on a {plan_name} seat — {email}, {proration.describe()} × {money(price_cents, currency)}",
        amount_cents=-proration.amount_cents,
        quantity=1,
        unit_amount_cents=-proration.amount_cents,
        period_start=start,
        period_end=end,
        metadata={
            "seat_email": email,
            "remaining": proration.remaining_units,
            "total": proration.total_units,
        },
    )


def own_seat_charge_line(
    *,
    plan_name: str,
    email: str,
    price_cents: int,
    currency: str,
    proration: Proration,
    start: datetime,
    end: datetime,
) -> DraftLine:
    """A paid seat that stays on its own interval at the new plan's price, charged for the
    rest of its period, e.g. "Max seat — a@b.c, 20 of 31 days × 24,99 €"."""
    return DraftLine(
        kind="seat_proration",
        description=f"{plan_name} seat — {email}, {proration.describe()} × {money(price_cents, currency)}",
        amount_cents=proration.amount_cents,
        quantity=1,
        unit_amount_cents=proration.amount_cents,
        period_start=start,
        period_end=end,
        metadata={
            "seat_email": email,
            "remaining": proration.remaining_units,
            "total": proration.total_units,
        },
    )


def credit_packs_line(*, packs: int, pack_size: int, pack_amount: int, currency: str) -> DraftLine:
    """A one-off purchase of credit packs, e.g. "3 × 1 000 000 credits × 5,00 €"."""
    return DraftLine(
        kind="extra_credits",
        description=(
            f"{packs} × {format_number(pack_size, settings.LANGUAGE_CODE)} credits × {money(pack_amount, currency)}"
        ),
        amount_cents=packs * pack_amount,
        quantity=packs,
        unit_amount_cents=pack_amount,
        metadata={"credits": packs * pack_size, "packs": packs, "pack_size": pack_size},
    )
