"""Celery entry points of the outbox."""

from __future__ import annotations

from celery import shared_task

from outbox import services


@shared_task(name="outbox.tasks.deliver", ignore_result=True)
def deliver(pk: int) -> str:
    return services.deliver(pk)


@shared_task(name="outbox.tasks.redrive", ignore_result=True)
def redrive() -> int:
    """Beat: rows whose hand-over to the broker was lost, retries that are due, rows left
    by a worker that died."""
    return services.redrive()
