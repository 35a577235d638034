"""Celery entry points of the Stripe gateway: process one stored event (with retries),
and the catch-up and reconciliation sweep."""

from __future__ import annotations

from celery import shared_task

from gateways.stripe import events, reconciliation

#: Retries with backoff: 1, 2, 4, 8 and 16 minutes, then the event is marked failed.
MAX_RETRIES = 5


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def process_stripe_event_task(self, event_pk: int) -> str:  # type: ignore[no-untyped-def]
    try:
        return events.process_event(event_pk)
    except Exception as exc:
        final = self.request.retries >= MAX_RETRIES
        events.record_failure(event_pk, exc, final=final)
        if final:
            return "failed"
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task
def stripe_catch_up_task() -> dict[str, int]:
    return reconciliation.catch_up_and_reconcile()
