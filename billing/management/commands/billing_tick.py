"""``manage.py billing_tick [--at ISO-8601]``: the billing, seat and credit sweeps,
synchronously, as of now or of the given instant (docs/architecture.md#scheduled-work)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

#: The range of instants the tick accepts.
EARLIEST = date(1970, 1, 1)
LATEST = date(9000, 12, 31)


def parse_instant(value: str) -> datetime:
    """An ISO-8601 date or date-time; without an offset it is read as UTC."""
    try:
        instant = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise CommandError(
            f"--at must be an ISO-8601 date or date-time, e.g. 2026-03-01T00:05:00+00:00 (got {value!r})."
        ) from exc
    if not EARLIEST <= instant.date() <= LATEST:
        # The sweeps compute periods and due dates around it: keep them inside datetime's range.
        raise CommandError(f"--at must be between {EARLIEST} and {LATEST} (got {value!r}).")
    if timezone.is_naive(instant):
        instant = instant.replace(tzinfo=UTC)
    return instant


class Command(BaseCommand):
    help = (
        "Run the billing sweeps (renewals, trials, expirations, dunning), then the seat sweeps "
        "(next-day seat charges, seat renewals), then the credit sweeps."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--at",
            help="Run as of this instant (ISO-8601, e.g. 2026-03-01T00:05:00+00:00; UTC when no offset).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = parse_instant(options["at"]) if options.get("at") is not None else timezone.now()
        from billing.seat_sweeps import run_seat_sweeps
        from billing.sweeps import run_billing_sweeps
        from credits.sweeps import run_credit_sweeps

        # Seats after billing: co-termed seats follow the subscriptions renewed just now,
        # and seats of workspaces that fell back to Free end before they would renew.
        billing = run_billing_sweeps(now=now, charge_inline=True)
        seats = run_seat_sweeps(now=now)
        credits = run_credit_sweeps(now=now)
        self.stdout.write(f"Billing tick at {now.isoformat()}")
        for name, count in [*billing.items(), *seats.items(), *credits.items()]:
            self.stdout.write(f"  {name}: {count}")
