"""``/webhooks/stripe/``: verify, store once, acknowledge (docs/rules/payments.md#webhooks).

Nothing is processed in the request: the event is stored by its id, before anything
else, and a task processes it after the commit. A bad signature, a stale timestamp or a
body that is not an event answers 400 and stores nothing.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError

from gateways.stripe.models import EventState, StripeEvent
from workspaces.jobs import enqueue

PROCESS_TASK = "gateways.stripe.tasks.process_stripe_event_task"

logger = logging.getLogger(__name__)


def verified_event(payload: bytes, signature: str) -> dict[str, Any] | None:
    """The event, if one of the current secrets signed it within the tolerance."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return None
    for secret in settings.STRIPE_WEBHOOK_SECRETS:
        try:
            stripe.WebhookSignature.verify_header(  # type: ignore[no-untyped-call]
                text, signature, secret, settings.STRIPE_WEBHOOK_TOLERANCE
            )
        except stripe.SignatureVerificationError:
            continue
        break
    else:
        return None
    try:
        event = json.loads(text)
    except ValueError:
        return None
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and event["id"]
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        return None
    return event


def store_event(event: dict[str, Any]) -> tuple[StripeEvent, bool]:
    """Store the event once by its id; ``(row, created)``. A concurrent delivery of the
    same event finds the row the first one wrote."""
    try:
        with transaction.atomic():
            row = StripeEvent.objects.create(
                event_id=event["id"],
                type=event["type"][:100],
                created=datetime.fromtimestamp(event["created"], tz=UTC),
                livemode=bool(event.get("livemode")),
                payload=event,
            )
    except IntegrityError:
        return StripeEvent.objects.get(event_id=event["id"]), False
    return row, True


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    event = verified_event(request.body, request.headers.get("Stripe-Signature", ""))
    if event is None:
        return HttpResponse(status=400)
    row, created = store_event(event)
    if created or row.state == EventState.RECEIVED:
        # A new event, or one delivered again before it was processed (its first task
        # may never have been queued): processing is idempotent.
        try:
            enqueue(PROCESS_TASK, row.pk)
        except OperationalError:
            # Stored: the catch-up queues it again. Stripe is told to deliver it again too.
            logger.exception("Stripe event %s stored, its processing could not be queued", row.event_id)
            return HttpResponse(status=503)
    return HttpResponse(status=200)
