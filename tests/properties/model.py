"""What a workspace should have paid for the time it held what it was billed for: the
value side of the money invariant (docs/rules/proration.md).

The proration rules state every amount as a price × a fraction of a period, in units:
days for weekly and monthly periods, whole months for annual ones. Put together, they
say that the money billed for time, net of the credits for unused time, is

    Σ over every thing billed, over each of its periods:  price × units held ÷ units

for three kinds of things:

- the plan's base amount, over each subscription period;
- the seats the subscription bills (extra seats bought in advance and the paid seats
  co-termed with it, docs/rules/plans.md#prices): a count, at the price's seat amount;
- each paid seat billed on its own interval, over each of its own periods.

Which units are held follows from the rule each change uses:

- day units: a day is held when the thing is held at the end of that day. The adding
  rule charges from the day of the change included; the removal rule and a plan change
  credit from the day of the change included.
- month units (annual periods): a month is held when the thing is held at its end, or
  when it was given up during it by the removal rule — a member removed or moved to a
  role without a licence, fewer extra seats, a seat ended by an expiry: "the current
  month counts as used". A plan change or a switch to annual applies the adding rule on
  both sides, so the month of the change belongs to the new terms only. Months follow
  the anchor day, clamped to short months (docs/rules/billing-calendar.md).

What the product gives away, by its rules, and how the model counts it:

- nothing of the subscription is billed during a trial (docs/rules/lifecycle.md#trial);
- an expiry ends the paid subscription without crediting what is left of its period
  (docs/rules/lifecycle.md#expiry): the plan and the seats it bills count as held to
  the end of that period; seats on their own interval are credited by the removal rule;
- seats released because their charge's last retry failed end "with nothing credited"
  (docs/rules/dunning.md#last-failure): they count as held to the end of their period;
- an unpaid invoice cancelled by a credit note (its last retry failed, or the
  subscription expired) and seat charges cancelled before they were invoiced are money
  the product forgoes: the checker takes them out of the expected value
  (:mod:`tests.properties.checks`), whole.

That last point is where the statement stops being exact: what is forgone is counted as
the whole cancelled invoice, not as the part of it the workspace actually held, so a
credit given later for unused time of a charge that was never paid would go unnoticed.
Everything else is exact.

A renewal that runs late (a subscription past due at its period end renews once paid)
bills its whole period from the period's start: the model counts its days before the
renewal ran as held on the renewed terms. Likewise a change applied once its payment was
authenticated keeps the dates it was priced for (docs/rules/lifecycle.md#pay-then-apply):
the machine counts the plan and the seats it bills as held from the confirming step on.

The value is an exact :class:`~fractions.Fraction` of cents; every line of an invoice is
rounded once, so what is billed and what was held agree within a cent per line.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction

#: How a step gives up what it ends (see the module docstring).
REMOVAL = "removal"  # the removal rule: annual months count as used
CHANGE = "change"  # the adding rule on both sides: the month of the change is the new terms'
TRANSFER = "transfer"  # the same seat moves between the subscription's count and its own billing


def clamp(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def add_months(start: date, months: int, anchor_day: int) -> date:
    year, index = divmod(start.year * 12 + start.month - 1 + months, 12)
    return clamp(year, index + 1, anchor_day)


@dataclass(frozen=True)
class Period:
    """A billing period ``[start, end)`` of dates and how it is cut into units."""

    start: date
    end: date
    annual: bool
    #: The day of month annual months are counted from (clamped to short months).
    anchor_day: int

    @property
    def units(self) -> int:
        return 12 if self.annual else (self.end - self.start).days

    def boundary(self, unit: int) -> date:
        """The first day of ``unit`` (``units`` gives the period's end)."""
        if unit <= 0:
            return self.start
        if unit >= self.units:
            return self.end
        if self.annual:
            return add_months(self.start, unit, self.anchor_day)
        return self.start + timedelta(days=unit)

    def unit_of(self, day: date) -> int:
        """The unit ``day`` falls in (days before the start are unit 0, after the end the last)."""
        if not self.annual:
            return min(max((day - self.start).days, 0), self.units - 1)
        unit = 0
        while unit < 11 and self.boundary(unit + 1) <= day:
            unit += 1
        return unit


@dataclass(frozen=True)
class Holding:
    """Something billed over one period at one price: ``count`` of it is held."""

    period: Period
    price_cents: int
    count: int
    #: Its paid part ends on this day (a seat renewed only up to its subscription's
    #: end): later units are not held, the unit of that day is, by the removal rule.
    paid_until: date | None = None
    #: A count of seats (several, the removal rule adds up) or a single thing.
    counted: bool = False

    def held_in(self, unit: int) -> int:
        if self.paid_until is not None:
            if self.period.annual and unit > self.period.unit_of(self.paid_until):
                return 0
            if not self.period.annual and self.period.boundary(unit) >= self.paid_until:
                return 0
        return self.count


#: ("base", subscription id, period start, price id) — ("seats", …) — ("own", seat id,
#: period start, interval, price) — ("released", subscription id, period start, price id,
#: instant): seats the subscription billed, released unpaid and held to the period's end.
Key = tuple[object, ...]


@dataclass
class Observation:
    """What the workspace held after one step, at the step's instant."""

    at: datetime
    day: date
    holdings: Mapping[Key, Holding]
    #: How the step gave up seats the subscription bills, and seats on their own interval.
    counted_end: str = CHANGE
    own_end: str = CHANGE
    #: A renewal or a trial's end: new periods that started before this step are billed whole.
    renews: bool = False
    #: Seats taken back by the same person re-added the same day (their removal undone).
    taken_back: int = 0
    meta: Mapping[str, object] = field(default_factory=dict)


def _count(observation: Observation, key: Key, unit: int) -> int:
    holding = observation.holdings.get(key)
    return 0 if holding is None else holding.held_in(unit)


def _given_up(observations: Sequence[Observation], key: Key, unit: int, first: int, last: int) -> int:
    """How much of ``key`` steps ``first``…``last`` gave up by the removal rule."""
    counted = key[0] != "own"
    removed = 0
    for index in range(max(first, 1), last + 1):
        step = observations[index]
        rule = step.counted_end if counted else step.own_end
        drop = _count(observations[index - 1], key, unit) - _count(step, key, unit)
        if drop > 0 and rule == REMOVAL:
            removed += drop
        if counted and step.taken_back:
            removed = max(0, removed - step.taken_back)
    return removed


def expected_cents(observations: Sequence[Observation]) -> Fraction:
    """The exact value of everything held over the observations, projected to the end of
    every period already begun (what is billed in advance is held in advance)."""
    return sum(expected_by_key(observations).values(), Fraction(0))


def expected_by_key(observations: Sequence[Observation]) -> dict[Key, Fraction]:
    """:func:`expected_cents`, per thing held and period (what a failure message shows)."""
    days = [o.day for o in observations]
    first_seen: dict[Key, int] = {}
    for index, observation in enumerate(observations):
        for key in observation.holdings:
            first_seen.setdefault(key, index)
    values: dict[Key, Fraction] = {}
    for key, first in first_seen.items():
        total = Fraction(0)
        holding = observations[first].holdings[key]
        period = holding.period
        # A renewal that ran late billed its period whole; seats released unpaid are held
        # from their release only (what they held before is in the subscription's count).
        backfill = (
            observations[first].renews and period.start < observations[first].day and key[0] != "released"
        )
        units = period.units
        for unit in range(units):
            low, high = period.boundary(unit), period.boundary(unit + 1)
            last = bisect_left(days, high) - 1
            if last < 0:
                continue
            if last < first:
                held = _count(observations[first], key, unit) if backfill else 0
            else:
                held = _count(observations[last], key, unit)
                if period.annual:
                    held += _given_up(observations, key, unit, bisect_left(days, low), last)
                    if not holding.counted:
                        held = min(held, 1)
            if held:
                total += Fraction(holding.price_cents * held, units)
        values[key] = total
    return values
