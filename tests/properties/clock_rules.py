"""Time passing: the clock moves forward and ``billing_tick`` runs as beat would, with
the renewal each confirmation announced checked when it falls due."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import strategies as st
from hypothesis.stateful import (
    rule,
)

from invoices.models import DocumentType, Invoice
from tests.properties import world
from tests.properties.machine import (
    BillingLifeBase,
)
from tests.properties.model import CHANGE


class ClockRules(BillingLifeBase):
    @rule(hours=st.integers(1, 23))
    def wait_hours(self, hours: int) -> None:
        self._advance_to(self.now + timedelta(hours=hours))

    @rule(days=st.integers(1, 12))
    def wait_days(self, days: int) -> None:
        self._advance_to(self.now + timedelta(days=days))

    @rule(weeks=st.integers(1, 5))
    def wait_weeks(self, weeks: int) -> None:
        self._advance_to(self.now + timedelta(weeks=weeks))

    @rule(minutes=st.sampled_from([-60, 0, 30]))
    def wait_for_month_end(self, minutes: int) -> None:
        """To the turn of the month (the workspace's billing day), an hour before or after."""
        self._advance_to(self._target(("month_end", minutes)))

    @rule(minutes=st.sampled_from([-60, 0, 60]))
    def wait_for_next_due(self, minutes: int) -> None:
        """To what falls due next (a renewal, a seat's period, a retry), or just around it."""
        self._advance_to(self._target(("next_due", minutes)))

    @rule(months=st.sampled_from([2, 4, 12]))
    def wait_months(self, months: int) -> None:
        self._advance_to(self._target(("months", months)))

    def _target(self, advance: tuple[str, int]) -> datetime:
        kind, amount = advance
        now = self.now
        if kind == "hours":
            return now + timedelta(hours=amount)
        if kind == "days":
            return now + timedelta(days=amount)
        if kind == "weeks":
            return now + timedelta(weeks=amount)
        if kind == "months":
            return now + timedelta(days=30 * amount + 1)
        if kind == "month_end":
            last = world.end_of_month(world.day_in(self.ws, now))
            target = world.midnight_in(self.ws, last + timedelta(days=1)) + timedelta(minutes=amount)
            return target if target > now else target + timedelta(days=31)
        due = world.due_instants([self.ws], now)
        target = (due[0] if due else now + timedelta(days=1)) + timedelta(minutes=amount)
        return target if target > now else now + timedelta(minutes=30)

    def _advance_to(self, target: datetime) -> None:
        """Run the sweeps at every instant something falls due until ``target``, then at it."""
        before = self.now
        ticks = 0
        while True:
            due = [at for at in world.due_instants([self.ws, self.other], self.now) if at <= target]
            at = due[0] if due else target
            self._tick(at)
            ticks += 1
            assert ticks < 400, "the sweeps keep finding work"
            if at >= target:
                break
        self.steps.append(f"wait {before.isoformat()} → {target.isoformat()} ({ticks} ticks)")

    def _tick(self, at: datetime) -> None:
        self.now = at
        quote = self.quote
        if quote is not None and (quote[1] > at or world.billing_digest(self.ws) != quote[2]):
            quote = None

        def sweeps() -> None:
            world.tick(at)
            for _again in range(3):
                if not world.overdue([self.ws, self.other], at):
                    break
                world.tick(at)

        self._settle(sweeps)
        if quote is not None:
            self._check_quote(quote, at)
        self._observe(CHANGE, CHANGE, tick=True)

    def _check_quote(self, quote: tuple[int, datetime, tuple[object, ...], str], at: datetime) -> None:
        """The next renewal a preview announced is the renewal then invoiced, when nothing
        it depends on changed meanwhile (docs/rules/lifecycle.md#previews)."""
        cents, starts, _digest, what = quote
        self.quote = None
        renewal = (
            Invoice.objects.filter(
                workspace=self.ws,
                issued_at=at,
                document_type=DocumentType.INVOICE,
                lines__kind__in=("plan", "seats"),
                lines__period_start=starts,
            )
            .distinct()
            .first()
        )
        assert renewal is not None, (
            f"{what}: announced a renewal of {cents} on {starts.isoformat()}, none issued"
        )
        assert renewal.total_cents == cents, (
            f"{what}: announced a renewal of {cents} on {starts.isoformat()}, {renewal.number} is {renewal.total_cents}"
        )
