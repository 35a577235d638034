"""Celery tasks of billing: they take ids, re-fetch, and call a service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import Task, shared_task
from django.utils import timezone

from billing.seat_sweeps import run_seat_sweeps
from billing.services.collection import collect
from billing.sweeps import run_billing_sweeps
from gateways.base import PaymentError

#: Gateway errors (outcome unknown) are retried with the same idempotency key.
CHARGE_MAX_RETRIES = 5


@shared_task(name="billing.tasks.run_billing_sweeps_task")
def run_billing_sweeps_task() -> dict[str, int]:
    """Beat, every 5 minutes: renewals, trial ends, expirations, dunning retries."""
    return run_billing_sweeps(now=timezone.now())


@shared_task(bind=True, name="billing.tasks.charge_invoice_task", max_retries=CHARGE_MAX_RETRIES)
def charge_invoice_task(
    self: Task[Any, Any], invoice_id: int, attempt: int, now_iso: str | None = None
) -> bool:
    """Charge one invoice (attempt ``attempt``); a declined card is an outcome (dunning),
    an unreachable gateway a retry with backoff and the same key."""
    now = datetime.fromisoformat(now_iso) if now_iso else timezone.now()
    try:
        return collect(invoice_id=invoice_id, attempt=attempt, now=now).succeeded
    except PaymentError as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task(name="billing.tasks.run_seat_sweeps_task")
def run_seat_sweeps_task() -> dict[str, int]:
    """Invoice and charge yesterday's seat changes, renew seats due today (idempotent)."""
    return run_seat_sweeps(now=timezone.now())
