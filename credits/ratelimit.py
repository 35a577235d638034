"""Per-key rate limit of the metering API: a fixed window counted in Redis.

django-ninja runs the throttle after authentication and answers 429 with ``Retry-After``
(the seconds left in the window) when it refuses. The count is one atomic ``INCR`` on a
key that expires with its window, so every web process shares it and no read-modify-write
race lets a burst through (docs/security.md#metering-api).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` → ``(600, 60)``: requests allowed per window of seconds."""
    count, _, period = rate.partition("/")
    if not count.strip().isdigit() or int(count) < 1 or period.strip() not in _PERIODS:
        raise ValueError(f"A rate is 'N/s', 'N/min' or 'N/hour', not {rate!r}.")
    return int(count), _PERIODS[period.strip()]


class ApiKeyRateThrottle(BaseThrottle):
    """At most ``settings.API_RATE_LIMIT`` requests per API key and window."""

    def allow_request(self, request: HttpRequest) -> bool:
        api_key = getattr(request, "auth", None)
        if api_key is None:
            return True
        limit, period = parse_rate(settings.API_RATE_LIMIT)
        window = int(time.time() // period)
        key = f"api-rate:{api_key.pk}:{period}:{window}"
        try:
            cache.add(key, 0, timeout=period + 1)
            try:
                count = cache.incr(key)
            except ValueError:  # the window's key expired between add and incr: a new window
                cache.add(key, 1, timeout=period + 1)
                count = 1
        except RedisError:
            # Redis is a guard here, never the source of truth: while it is unreachable the
            # calls go on (the ledger is in PostgreSQL), unlimited, and the outage is logged.
            logger.warning("API rate limit not applied: Redis unreachable", exc_info=True)
            return True
        return count <= limit

    def wait(self) -> float:
        _, period = parse_rate(settings.API_RATE_LIMIT)
        return max(period - time.time() % period, 1.0)
