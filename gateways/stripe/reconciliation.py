"""The catch-up and reconciliation sweep (docs/rules/payments.md#catch-up-and-reconciliation),
run by Celery beat: Stripe's events since the last one stored are read back and stored
like a delivery; charges left waiting are asked again; and paid invoices are compared
with Stripe's succeeded PaymentIntents, reported without changing anything."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing.services.collection import collect
from billing.services.payments import charge_answered
from gateways.base import PaymentError, get_gateway
from gateways.stripe.client import call, client
from gateways.stripe.models import EventState, StripeEvent
from gateways.stripe.webhooks import PROCESS_TASK, store_event
from invoices.models import Charge, ChargeStatus
from workspaces.jobs import enqueue

logger = logging.getLogger(__name__)

#: How far back the comparison of paid invoices and succeeded intents looks.
RECONCILE_WINDOW = timedelta(days=3)
#: At most this many of Stripe's latest PaymentIntents are read per comparison.
MAX_INTENTS_READ = 2_000
#: A charge without an answer, or a stored event not processed, is taken up again after this long.
STALE_AFTER = timedelta(minutes=10)


def catch_up_events() -> int:
    """Store (and queue) every event Stripe has after the last one we stored."""
    last = StripeEvent.objects.order_by("-created").values_list("created", flat=True).first()
    params: Any = {"limit": 100}
    if last is not None:
        params["created"] = {"gte": int(last.timestamp())}
    page = call(lambda: client().v1.events.list(params=params))
    stored = 0
    for event in page.auto_paging_iter():
        row, created = store_event(json.loads(str(event)))
        if created:
            stored += 1
            transaction.on_commit(partial(enqueue, PROCESS_TASK, row.pk))
    return stored


def requeue_unprocessed_events() -> int:
    """Events stored but left unprocessed (their task could not be queued, or was lost)
    are queued again."""
    stale = list(
        StripeEvent.objects.filter(state=EventState.RECEIVED, received_at__lte=timezone.now() - STALE_AFTER)
        .order_by("created", "id")
        .values_list("pk", flat=True)[:500]
    )
    for pk in stale:
        enqueue(PROCESS_TASK, pk)
    return len(stale)


def recheck_waiting_charges() -> int:
    """Charges left without a final answer are asked again: by their PaymentIntent when
    Stripe gave one, else by charging again under the same idempotency key (which tells
    what became of a request Stripe never answered, or makes it now)."""
    now = timezone.now()
    waiting = list(
        Charge.objects.filter(
            status__in=(ChargeStatus.PROCESSING, ChargeStatus.REQUIRES_ACTION, ChargeStatus.PENDING),
            updated_at__lte=now - STALE_AFTER,
        ).order_by("id")
    )
    for charge in waiting:
        try:
            if charge.reference:
                charge_answered(
                    charge_id=charge.pk, result=get_gateway().charge_status(charge.reference), now=now
                )
            else:
                collect(invoice_id=charge.invoice_id, attempt=charge.attempt, now=now)
        except PaymentError:
            logger.warning("Stripe still cannot tell what became of charge %s", charge.idempotency_key)
    return len(waiting)


def reconciliation_report() -> list[str]:
    """Differences between our succeeded charges and Stripe's succeeded intents over the
    window; nothing is changed, each difference is logged for operators."""
    since = timezone.now() - RECONCILE_WINDOW
    ours = {
        charge.reference: charge
        for charge in Charge.objects.filter(status=ChargeStatus.SUCCEEDED, updated_at__gte=since).exclude(
            reference=""
        )
    }
    page = call(lambda: client().v1.payment_intents.list(params={"limit": 100}))
    theirs = {}
    for read, intent in enumerate(page.auto_paging_iter()):
        if read >= MAX_INTENTS_READ:
            break
        if intent.created >= int(since.timestamp()) and intent.status == "succeeded":
            theirs[intent.id] = intent
    differences = []
    for reference, charge in ours.items():
        status = (
            theirs[reference].status if reference in theirs else get_gateway().charge_status(reference).status
        )
        if status != "succeeded":
            differences.append(
                f"charge {charge.idempotency_key} is paid here, {status} in Stripe ({reference})"
            )
    paid_here = set(
        Charge.objects.filter(reference__in=list(theirs), status=ChargeStatus.SUCCEEDED).values_list(
            "reference", flat=True
        )
    )
    for reference, intent in theirs.items():
        metadata = intent.get("metadata") or {}
        if reference not in paid_here and metadata.get("invoice_id"):
            differences.append(
                f"intent {reference} succeeded in Stripe for invoice {metadata['invoice_id']}, not paid here"
            )
    for line in differences:
        logger.warning("Stripe reconciliation: %s", line)
    return differences


def catch_up_and_reconcile() -> dict[str, int]:
    return {
        "events_stored": catch_up_events(),
        "events_requeued": requeue_unprocessed_events(),
        "charges_rechecked": recheck_waiting_charges(),
        "differences": len(reconciliation_report()),
    }
