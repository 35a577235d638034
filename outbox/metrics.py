"""The application's own Prometheus metrics, next to django-prometheus's (``/metrics``).

Counters live in each process (with ``PROMETHEUS_MULTIPROC_DIR`` set, every gunicorn and
Celery process of a machine writes its own and ``/metrics`` adds them up); the charges and
declines, the outbox depth and the webhook lag are read from the database when scraped
(:mod:`config.health`), so every node reports the same figures.
"""

from __future__ import annotations

from prometheus_client import Counter

CREDITS_CONSUMED = Counter("seatcredit_credits_consumed_total", "AI credits consumed through the ledger")
OUTBOX_DELIVERED = Counter("seatcredit_outbox_delivered_total", "Outbox rows delivered", ["kind"])
OUTBOX_FAILURES = Counter(
    "seatcredit_outbox_failures_total", "Outbox delivery attempts that failed", ["kind"]
)
