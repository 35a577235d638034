"""Which paid seats a subscription change leaves, and on which terms (pure: no ORM, no clock).

docs/rules/plans.md#seats: a plan's included seats are covered by its base price,
``Subscription.extra_seats`` is capacity bought in advance, and every licensed member
beyond ``included + extra`` holds a paid seat (:class:`teams.models.Seat`). A paid seat
on the subscription's interval is co-termed with it: the subscription's invoices bill it
(``seat_amount × (extra_seats + co-termed paid seats)``). A paid seat on another
interval is billed only by its own anniversary renewal (:mod:`billing.seat_sweeps`).

When billing changes the subscription (a purchase, a plan change, a switch to annual,
extra seats bought, an expiry), :func:`plan_seats` says what becomes of the paid seats;
billing prices the change from this plan (its preview and its invoice) and
:func:`teams.services.seats_sync` applies the very same plan inside the same
transaction, so what is invoiced is what the seat rows say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SeatState:
    """An active paid seat as it stands, read once (plain values, no model instance)."""

    id: int
    email: str
    interval: str
    coterm: bool
    price_cents: int
    period_start: datetime
    period_end: datetime
    added_at: datetime


@dataclass(frozen=True)
class SeatTerms:
    """A seat kept by a change, with the terms it has afterwards."""

    seat: SeatState
    interval: str
    price_cents: int
    coterm: bool

    @property
    def changed(self) -> bool:
        s = self.seat
        return (self.interval, self.price_cents, self.coterm) != (s.interval, s.price_cents, s.coterm)

    @property
    def joins_subscription(self) -> bool:
        """A seat billed on its own anniversary until now, co-termed (billed by the
        subscription) from now on."""
        return self.coterm and not self.seat.coterm

    @property
    def repriced_on_its_own(self) -> bool:
        """A seat that stays on its own interval at another price."""
        return not self.coterm and not self.seat.coterm and self.price_cents != self.seat.price_cents


@dataclass(frozen=True)
class SeatPlan:
    """What a change does to the paid seats: which end, on which terms the others stay,
    how many new co-termed seats are created."""

    ended: tuple[SeatState, ...]
    kept: tuple[SeatTerms, ...]
    added: int

    @property
    def coterm_after(self) -> int:
        """Co-termed paid seats once the change is applied: the subscription bills them."""
        return sum(1 for terms in self.kept if terms.coterm) + self.added

    @property
    def ended_own_interval(self) -> tuple[SeatState, ...]:
        """Ended seats that were billed on their own anniversary (the subscription's
        invoices never billed them)."""
        return tuple(seat for seat in self.ended if not seat.coterm)


def wanted_paid_seats(*, seats_are_free: bool, licensed: int, included: int, extra_seats: int) -> int:
    """Paid seats a subscription needs: every licensed member beyond the included seats and
    the extra seats bought in advance; none on plans whose seats are free."""
    if seats_are_free:
        return 0
    return max(0, licensed - included - extra_seats)


def plan_seats(
    seats: Sequence[SeatState], *, wanted: int, interval: str, seat_prices: Mapping[str, int]
) -> SeatPlan:
    """The paid seats after a change that leaves the subscription on ``interval`` with
    ``seat_prices`` (its plan's seat price per interval sold) and ``wanted`` paid seats.

    - Surplus seats end, co-termed ones first (the subscription's invoice credits them
      with the plan), newest first.
    - A co-termed seat stays co-termed and follows the subscription's interval (a switch
      to annual billing); a seat on an interval the plan does not sell moves to the
      subscription's; a seat whose interval is now the subscription's becomes co-termed.
    - Every seat takes the plan's seat price for its interval.
    - Missing seats are created co-termed.
    """
    if wanted < 0:
        raise ValueError(f"wanted must not be negative, got {wanted}")
    if interval not in seat_prices:
        raise ValueError(f"no seat price for the subscription's interval {interval!r}")
    active = list(seats)
    surplus = sorted(active, key=lambda s: (s.coterm, s.added_at, s.id), reverse=True)
    ended: list[SeatState] = []
    while len(active) > wanted:
        seat = surplus.pop(0)
        active.remove(seat)
        ended.append(seat)
    kept = []
    for seat in active:
        new_interval = interval if seat.coterm or seat.interval not in seat_prices else seat.interval
        kept.append(
            SeatTerms(
                seat=seat,
                interval=new_interval,
                price_cents=int(seat_prices[new_interval]),
                coterm=new_interval == interval,
            )
        )
    return SeatPlan(ended=tuple(ended), kept=tuple(kept), added=wanted - len(active))
