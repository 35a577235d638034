"""Writing to the outbox and delivering from it (docs/architecture.md#outbox).

* :func:`enqueue_task` and :func:`enqueue_email` write a row in the caller's transaction:
  the work exists exactly when the change that causes it committed. After the commit
  the row is handed to the broker (``outbox.tasks.deliver``) as a hint only: if the
  broker is down the request still succeeds, and beat's :func:`redrive` finds the row.
* :func:`deliver` claims a row for ``OUTBOX_LEASE_SECONDS`` (a worker that dies leaves the
  claim to lapse), runs it (a task's function in this process, or the email through
  ``OUTBOX_EMAIL_BACKEND``), then marks it sent. A failure is tried again later, with an
  exponential backoff, up to ``OUTBOX_MAX_ATTEMPTS``; then the row is dead and waits for
  an operator (the admin's "retry"). Delivery is at least once: handlers are idempotent.
* Rows of one ``stream`` go one at a time, in the order they were written: a row waits
  while an older one of its stream is pending (credit notices: 80 % before 100 %).
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import time
import traceback
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from outbox import mail
from outbox.models import Kind, Message, Status

logger = logging.getLogger(__name__)

DELIVER_TASK = "outbox.tasks.deliver"
#: Handing a row to the broker is tried once more at once (a connection the broker dropped),
#: then left to the redrive: a request never waits for a broker that is down.
KICK_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _request_id() -> str:
    try:
        from django_guid import get_guid

        return str(get_guid() or "")
    except Exception:  # pragma: no cover - logging context is best effort
        return ""


def _write(kind: str, name: str, payload: Any, stream: str, delay: float) -> Message:
    now = timezone.now()
    message = Message.objects.create(
        kind=kind,
        name=name[:255],
        payload=payload,
        stream=stream[:100],
        created_at=now,
        next_attempt_at=now + timedelta(seconds=delay),
        request_id=_request_id()[:64],
    )
    if not delay:
        pk = message.pk
        transaction.on_commit(lambda: kick(pk), robust=True)
    return message


def enqueue_task(name: str, *args: Any, stream: str = "", delay: float = 0) -> Message:
    """Run the Celery task ``name`` with ``args`` (JSON values) once this transaction
    commits, at least once; ``delay`` seconds later when given."""
    return _write(Kind.TASK, name, list(args), stream, delay)


def enqueue_email(message: EmailMessage, *, stream: str | None = None) -> Message:
    """Send ``message`` once this transaction commits. Mail to the same addresses goes out
    in the order it was written unless ``stream`` says otherwise."""
    payload = mail.to_payload(message)
    return _write(
        Kind.EMAIL,
        payload["subject"] or "(no subject)",
        payload,
        mail.recipients_stream(payload) if stream is None else stream,
        0,
    )


def kick(pk: int) -> None:
    """Ask a worker to deliver the row now; a broker that cannot be reached changes nothing
    (beat's redrive delivers it later)."""
    try:
        _task(DELIVER_TASK).apply_async((pk,), retry=True, retry_policy=KICK_RETRY)
    except Exception as exc:  # the broker is down: the row waits for the redrive
        logger.warning("outbox: message %s left for the redrive (%s)", pk, exc.__class__.__name__)


def _task(name: str) -> Any:
    if name not in current_app.tasks:
        importlib.import_module(name.rpartition(".")[0])
    return current_app.tasks[name]


# --- Delivery ------------------------------------------------------------------------------------


def _claim(pk: int, now: datetime) -> Message | None:
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status=Status.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if message is None or (message.locked_until is not None and message.locked_until > now):
            return None
        if (
            message.stream
            and Message.objects.filter(stream=message.stream, status=Status.PENDING, pk__lt=pk).exists()
        ):
            return None  # an older one of its stream goes first, and then hands over to this one
        message.locked_until = now + timedelta(seconds=_setting("OUTBOX_LEASE_SECONDS", 90))
        message.attempts += 1
        message.claimed_by = _worker_name()[:200]
        message.save(update_fields=["locked_until", "attempts", "claimed_by"])
    return message


def _worker_name() -> str:
    from celery import current_task

    request = getattr(current_task, "request", None)
    hostname = getattr(request, "hostname", None) if request is not None else None
    return f"{hostname or socket.gethostname()}:{os.getpid()}"


def _run(message: Message) -> None:
    if message.kind == Kind.EMAIL:
        backend = getattr(settings, "OUTBOX_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
        email = mail.from_payload(message.payload)
        # One identity per row: a copy sent again after a worker died is the same message to
        # the receiving servers and mail clients, which drop duplicates by it.
        email.extra_headers.setdefault(
            "Message-ID", f"<outbox.{message.pk}.{message.created_at:%Y%m%d%H%M%S}@{_domain()}>"
        )
        with get_connection(backend) as connection:
            email.connection = connection
            email.send()
    else:
        _task(message.name)(*message.payload)


def _domain() -> str:
    return str(settings.DEFAULT_FROM_EMAIL).rpartition("@")[2].strip("> ") or "localhost"


def backoff(attempts: int) -> timedelta:
    """The pause after the n-th failed attempt: 30 s, 1 min, 2 min … at most one hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def deliver(pk: int) -> str:
    """Deliver one row if it is due and nobody holds it; then the next of its stream.

    Returns what became of the first row: ``sent``, ``retry``, ``dead`` or ``skipped``.
    """
    outcome = _deliver_one(pk)
    handed = 0
    current = pk
    while outcome == "sent" and handed < 100:
        successor = _successor(current)
        if successor is None or _deliver_one(successor) != "sent":
            break
        current, handed = successor, handed + 1
    return outcome


def _successor(pk: int) -> int | None:
    stream = Message.objects.filter(pk=pk).values_list("stream", flat=True).first()
    if not stream:
        return None
    return (
        Message.objects.filter(stream=stream, status=Status.PENDING, pk__gt=pk)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def _deliver_one(pk: int) -> str:
    message = _claim(pk, timezone.now())
    if message is None:
        return "skipped"
    from outbox import metrics, observability

    with observability.request_id(message.request_id):
        try:
            _run(message)
        except Exception as exc:
            now = timezone.now()
            dead = message.attempts >= _setting("OUTBOX_MAX_ATTEMPTS", 8)
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
            Message.objects.filter(pk=pk, status=Status.PENDING).update(
                status=Status.DEAD if dead else Status.PENDING,
                next_attempt_at=now + backoff(message.attempts),
                locked_until=None,
                last_error=error,
            )
            logger.warning(
                "outbox: %s #%s failed (attempt %s)%s: %s",
                message.kind, pk, message.attempts, ", given up" if dead else "", error,
            )  # fmt: skip
            metrics.OUTBOX_FAILURES.labels(kind=message.kind).inc()
            return "dead" if dead else "retry"
        Message.objects.filter(pk=pk).update(
            status=Status.SENT, sent_at=timezone.now(), locked_until=None, last_error=""
        )
        metrics.OUTBOX_DELIVERED.labels(kind=message.kind).inc()
        logger.info("outbox: %s #%s delivered: %s", message.kind, pk, message.name)
    return "sent"


def redrive(*, now: datetime | None = None, budget_seconds: float = 60.0, limit: int = 500) -> int:
    """Deliver the rows that are due and unclaimed, oldest first (beat, every few seconds):
    those whose hand-over to the broker was lost, those waiting for a retry, those whose
    worker died. Returns how many were sent."""
    now = now or timezone.now()
    started = time.monotonic()
    due = list(
        Message.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .exclude(locked_until__gt=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in due:
        if time.monotonic() - started > budget_seconds:
            break
        sent += deliver(pk) == "sent"
    return sent


def retry(pks: list[int]) -> int:
    """Operators: give dead rows another round of attempts, now."""
    now = timezone.now()
    with transaction.atomic():
        count = Message.objects.filter(pk__in=pks, status=Status.DEAD).update(
            status=Status.PENDING, attempts=0, next_attempt_at=now, locked_until=None
        )
        for pk in pks:
            transaction.on_commit(partial(kick, pk), robust=True)
    return count


def depth() -> dict[str, int]:
    """Rows waiting, and rows given up, for the metrics and the operators."""
    counts = dict(
        Message.objects.filter(status__in=[Status.PENDING, Status.DEAD])
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {"pending": counts.get(Status.PENDING, 0), "dead": counts.get(Status.DEAD, 0)}
