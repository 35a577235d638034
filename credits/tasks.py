"""Celery tasks of the credit ledger: ids in, a service call, retries here."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from credits import notifications, sweeps


@shared_task(name="credits.tasks.run_credit_sweeps", ignore_result=True)
def run_credit_sweeps_task() -> dict[str, int]:
    """Beat runs this every few minutes: resets, missing allowances, hold expiry."""
    return sweeps.run_credit_sweeps(now=timezone.now())


@shared_task(
    name="credits.tasks.send_credit_notice",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_credit_notice(notice_id: int) -> bool:
    return notifications.notice_send(notice_id=notice_id)
