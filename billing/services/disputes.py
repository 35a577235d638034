"""A payment disputed by the cardholder (docs/rules/payments.md#disputes): the credits it
bought are held while the dispute is open, given back if it is won, and stay taken if it
is lost. Operators are alerted at each step."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.mail import mail_admins

from billing.services.core import record_workspace_event
from billing.services.settlement import purchase_source
from credits.services import credits_hold_purchased, credits_release_hold
from invoices.models import Charge
from subscriptions.models import EventKind

logger = logging.getLogger(__name__)


def dispute_hold(*, charge: Charge, dispute_id: str, now: datetime) -> int:
    """Hold the credits the disputed payment bought; returns how many were held."""
    invoice = charge.invoice
    held = credits_hold_purchased(workspace=invoice.workspace, source=purchase_source(invoice), now=now)
    record_workspace_event(
        charge.workspace_id,
        EventKind.PAYMENT_DISPUTED,
        now=now,
        data={"invoice": charge.invoice_id, "dispute": dispute_id, "credits_held": held},
    )
    _alert(
        f"Payment disputed: invoice {invoice.number}",
        f"Dispute {dispute_id} opened on charge {charge.reference} (invoice {invoice.number}, "
        f"workspace {invoice.workspace_id}). {held} purchased credits held until it closes.",
    )
    return held


def dispute_close(*, charge: Charge, dispute_id: str, won: bool, credits_held: int, now: datetime) -> int:
    """The dispute closed: won, the held credits come back; lost, they stay taken."""
    invoice = charge.invoice
    given_back = 0
    if won:
        given_back = credits_release_hold(
            workspace=invoice.workspace, source=purchase_source(invoice), credits=credits_held, now=now
        )
    record_workspace_event(
        charge.workspace_id,
        EventKind.DISPUTE_CLOSED,
        now=now,
        data={
            "invoice": charge.invoice_id,
            "dispute": dispute_id,
            "won": won,
            "credits_given_back": given_back,
        },
    )
    _alert(
        f"Dispute {'won' if won else 'lost'}: invoice {invoice.number}",
        f"Dispute {dispute_id} on charge {charge.reference} (invoice {invoice.number}) closed: "
        f"{'won' if won else 'lost'}. Credits given back: {given_back}.",
    )
    return given_back


def _alert(subject: str, body: str) -> None:
    logger.warning("%s — %s", subject, body)
    # An outbox row in the caller's transaction (EMAIL_BACKEND): sent once it commits.
    mail_admins(subject, body, fail_silently=True)
