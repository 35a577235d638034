"""Health and metrics endpoints for the balancer and the monitoring.

* ``/healthz``: the process answers (liveness; touches nothing else).
* ``/readyz``: the database, the cache's Redis and the task broker answer (readiness: a
  node failing it is taken out of the balancer, not restarted).
* ``/metrics``: Prometheus (django-prometheus's request, database and cache metrics, ours
  from :mod:`outbox.metrics`, and the gauges below read from the database when scraped).
  With ``METRICS_TOKEN`` set, only a scraper sending it as a bearer token is answered.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    cache.set("readyz", "1", timeout=10)
    if cache.get("readyz") != "1":
        raise RuntimeError("the cache did not keep a value")


def _broker() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    checks: dict[str, str] = {}
    for name, check in (("database", _database), ("cache", _cache), ("broker", _broker)):
        try:
            check()
        except Exception as exc:
            checks[name] = f"error: {exc.__class__.__name__}"
        else:
            checks[name] = "ok"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


class DatabaseGauges(Collector):
    """Figures read from the database at each scrape: the same on every node."""

    def collect(self) -> Iterator[Any]:
        from gateways.stripe.models import EventState, StripeEvent
        from invoices.models import FINAL_CHARGE_STATUSES, Charge, ChargeStatus
        from outbox.services import depth

        try:
            counts = depth()
            charges = dict(Charge.objects.values_list("status").annotate(n=Count("id")).order_by())
            oldest = (
                StripeEvent.objects.filter(state=EventState.RECEIVED)
                .order_by("created")
                .values_list("created", flat=True)
                .first()
            )
        except Exception:  # the database is down: /readyz says so, the scrape goes on
            return
        by_status = CounterMetricFamily(
            "seatcredit_charges", "Card charges answered, by their final state", labels=["status"]
        )
        for status in FINAL_CHARGE_STATUSES:
            by_status.add_metric([str(status)], charges.get(status, 0))
        yield by_status
        yield CounterMetricFamily(
            "seatcredit_charge_declines", "Card charges declined", value=charges.get(ChargeStatus.FAILED, 0)
        )
        outbox = GaugeMetricFamily("seatcredit_outbox_depth", "Outbox rows by status", labels=["status"])
        outbox.add_metric(["pending"], counts["pending"])
        outbox.add_metric(["dead"], counts["dead"])
        yield outbox
        lag = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "seatcredit_webhook_lag_seconds",
            "Age of the oldest Stripe event received and not processed yet (0 when none waits)",
            value=max(0.0, lag),
        )


_registered = False


def _register() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(DatabaseGauges())
        _registered = True


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), str(token).encode()):
            return HttpResponse(status=404)
    _register()
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(DatabaseGauges())
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
