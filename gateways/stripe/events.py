"""Processing one stored Stripe event (docs/rules/payments.md#webhooks).

An event is a prompt, not a fact: each handler finds what it concerns in our tables,
reads the object again from Stripe, and hands the current state to the same service the
synchronous path uses, which never moves a final state back. Any order, any number of
deliveries: one effect. An event that does not concern us (no invoice or workspace of
ours in it), or of a type we do not handle, is stored as ignored.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from billing.services.payments import charge_answered
from billing.services.refunds import refund_recorded
from gateways.base import get_gateway
from gateways.stripe import disputes, payment_methods
from gateways.stripe.client import call, client, object_id
from gateways.stripe.models import EventState, StripeEvent
from invoices.models import Charge

logger = logging.getLogger(__name__)

#: What a handler reports: ``None`` when it did its work, else why the event is ignored.
Handler = Callable[[dict[str, Any]], str | None]


def _charge_of_intent(intent: dict[str, Any]) -> Charge | None:
    """Our charge for a PaymentIntent: by its id; or, when the webhook arrives before the
    synchronous answer was recorded (the charge has no reference yet), by the invoice and
    attempt in its metadata, provided the intent is our workspace's customer's. Another
    application on the same Stripe account naming the same invoice id pays nothing."""
    charge = Charge.objects.filter(reference=intent.get("id", "")).exclude(reference="").first()
    if charge is not None:
        return charge
    metadata = intent.get("metadata") or {}
    invoice_id, attempt = str(metadata.get("invoice_id") or ""), str(metadata.get("attempt") or "")
    if not (invoice_id.isdigit() and attempt.isdigit()):
        return None
    charge = (
        Charge.objects.filter(invoice_id=int(invoice_id), attempt=int(attempt), reference="")
        .select_related("workspace__stripe_customer")
        .first()
    )
    customer = object_id(intent.get("customer"))
    known = getattr(charge.workspace, "stripe_customer", None) if charge is not None else None
    if charge is None or known is None or known.customer_id != customer:
        return None
    return charge


def _payment_intent(event_object: dict[str, Any]) -> str | None:
    charge = _charge_of_intent(event_object)
    if charge is None:
        return "not one of our charges"
    result = get_gateway().charge_status(str(event_object["id"]))
    charge_answered(charge_id=charge.pk, result=result, now=timezone.now())
    return None


def _refunded_charge(event_object: dict[str, Any]) -> str | None:
    """``charge.refunded``: the charge's refunded total, read again from Stripe."""
    intent_id = object_id(event_object.get("payment_intent"))
    charge = Charge.objects.filter(reference=intent_id).exclude(reference="").first()
    if charge is None:
        return "not one of our charges"
    current = call(lambda: client().v1.charges.retrieve(str(event_object["id"])))
    refund_recorded(
        charge_id=charge.pk, refunded_total_cents=int(current.amount_refunded), now=timezone.now()
    )
    return None


def _refund_updated(event_object: dict[str, Any]) -> str | None:
    """``refund.updated``: the refund's charge, read again, says what is refunded in all."""
    charge_id = object_id(event_object.get("charge"))
    if not charge_id:
        return "refund without a charge"
    current = call(lambda: client().v1.charges.retrieve(str(charge_id)))
    return _refunded_charge({"id": current.id, "payment_intent": current.payment_intent})


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _payment_intent,
    "payment_intent.payment_failed": _payment_intent,
    "payment_intent.requires_action": _payment_intent,
    "payment_intent.processing": _payment_intent,
    "payment_intent.canceled": _payment_intent,
    "charge.refunded": _refunded_charge,
    "refund.updated": _refund_updated,
    "charge.dispute.created": disputes.dispute_opened,
    "charge.dispute.closed": disputes.dispute_closed,
    "setup_intent.succeeded": payment_methods.setup_succeeded,
    "payment_method.attached": payment_methods.method_changed,
    "payment_method.updated": payment_methods.method_changed,
    "payment_method.automatically_updated": payment_methods.method_changed,
    "payment_method.detached": payment_methods.method_detached,
}


#: First key of the advisory locks that let one process at a time work on an event.
EVENT_LOCK_NAMESPACE = 0x57E1


@contextlib.contextmanager
def _working_on(event_pk: int) -> Iterator[bool]:
    """Whether this process may work on the event now: a session advisory lock, released
    at the end or when the connection dies with its worker."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [EVENT_LOCK_NAMESPACE, event_pk])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [EVENT_LOCK_NAMESPACE, event_pk])


def process_event(event_pk: int) -> str:
    """Process one stored event once; returns its state. Safe to call again (a replay),
    and concurrently: a second delivery while the first is at work leaves it to it."""
    with _working_on(event_pk) as mine:
        if not mine:
            return "busy"
        row = StripeEvent.objects.get(pk=event_pk)
        if row.state in (EventState.PROCESSED, EventState.IGNORED):
            return str(row.state)
        StripeEvent.objects.filter(pk=event_pk).update(attempts=F("attempts") + 1)
        handler = HANDLERS.get(row.type)
        event_object = (row.payload.get("data") or {}).get("object") or {}
        note = f"type {row.type} is not handled" if handler is None else handler(event_object)
        state = EventState.IGNORED if note else EventState.PROCESSED
        StripeEvent.objects.filter(pk=event_pk).update(
            state=state, note=(note or "")[:300], last_error="", processed_at=timezone.now()
        )
    return str(state)


def record_failure(event_pk: int, exc: BaseException, *, final: bool) -> None:
    logger.warning("Stripe event %s failed: %s", event_pk, exc)
    text = "".join(traceback.format_exception(exc))[-4000:]
    fields: dict[str, Any] = {"last_error": text}
    if final:
        fields["state"] = EventState.FAILED
    StripeEvent.objects.filter(pk=event_pk).exclude(state=EventState.PROCESSED).update(**fields)


def replay(event_pk: int) -> str:
    """Process a failed (or any unprocessed) event again, now: the operators' replay."""
    StripeEvent.objects.filter(pk=event_pk, state=EventState.FAILED).update(state=EventState.RECEIVED)
    try:
        return process_event(event_pk)
    except Exception as exc:
        record_failure(event_pk, exc, final=True)
        raise
