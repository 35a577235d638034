"""Celery entry point of the daily seat job (beat: CELERY_BEAT_SCHEDULE "teams-seat-sweeps")."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from teams.sweeps import run_seat_sweeps


@shared_task(name="teams.tasks.run_seat_sweeps_task")
def run_seat_sweeps_task() -> dict[str, int]:
    """Invoice and charge yesterday's seat changes, renew seats due today (idempotent)."""
    return run_seat_sweeps(now=timezone.now())
