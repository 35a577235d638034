"""``manage.py stripe_events list [--state failed]``, ``manage.py stripe_events replay <event id>``
and ``manage.py stripe_events catch-up`` (the scheduled catch-up and reconciliation, now)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gateways.stripe import events, reconciliation
from gateways.stripe.models import EventState, StripeEvent


class Command(BaseCommand):
    help = "List stored Stripe events, or process one again."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="The latest stored events.")
        listing.add_argument("--state", choices=[s.value for s in EventState])
        listing.add_argument("--limit", type=int, default=50)
        replay = sub.add_parser("replay", help="Process an event again (a failed one, typically).")
        replay.add_argument("event_id", help="Stripe's event id (evt_…).")
        sub.add_parser("catch-up", help="Read back missed events, recheck waiting charges, reconcile.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            rows = StripeEvent.objects.all()
            if options["state"]:
                rows = rows.filter(state=options["state"])
            for row in rows[: max(1, options["limit"])]:
                self.stdout.write(f"{row.event_id}\t{row.type}\t{row.state}\t{row.attempts}\t{row.note}")
            return
        if options["action"] == "catch-up":
            summary = reconciliation.catch_up_and_reconcile()
            self.stdout.write(", ".join(f"{name}: {count}" for name, count in summary.items()))
            return
        found = StripeEvent.objects.filter(event_id=options["event_id"]).first()
        if found is None:
            raise CommandError(f"No stored Stripe event has the id {options['event_id']!r}.")
        try:
            state = events.replay(found.pk)
        except Exception as exc:
            raise CommandError(f"Event {found.event_id} failed again: {exc}") from exc
        self.stdout.write(f"{found.event_id}: {state}")
