"""Issue 5, acceptance 4: the subscription Overview page under load, against a floor page
measured in the same run (rows: seconds per request, ratio = ours / floor, lower is better).

* **Page**: ``/<workspace>/workspace/subscription/`` for the demo Acme workspace (the Overview's
  data: Team Starter monthly, a card, a year of invoices, 30 days of usage, purchases),
  signed in as its admin, served by gunicorn on 127.0.0.1 and fetched by 16 concurrent
  keep-alive clients (a bounded number of requests each).
* **Floor**: a bench-only view (``bench.urls``, enabled through ``bench.page_settings``,
  never in the app's URLs) in the same server and middleware stack that runs 5 simple
  queries and renders a template whose HTML is the Overview's size.
* The two are measured in alternating rounds (page then floor, then floor then page …)
  and the ratio is the median of the rounds' ratios: a burst of background work (the
  database's autovacuum after the big benchmarks before this one) slows one round of
  both rather than one side of the comparison.
* Target: the Overview serves at least 50 % of the floor's requests per second, i.e. at
  most 2× its time per request. p50 / p99 latencies of both are printed with the row.
"""

from __future__ import annotations

import http.client
import statistics
import time
from typing import Any

from django.conf import settings

from bench.serving import GunicornServer, parallel

CLIENTS = 16
WARM_UP_PER_CLIENT = 5
REQUESTS_PER_CLIENT = 40
ROUNDS = 5  # REQUESTS_PER_CLIENT split into alternating rounds of page and floor
LIMIT = 2.0  # throughput >= 50 % of the floor's


def _load(port: int, path: str, cookie: str, per_client: int) -> tuple[float, list[float], int]:
    """16 keep-alive clients, ``per_client`` GETs each: (seconds per request, latencies, bytes)."""
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    sizes: list[int] = []

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(per_client):
            started = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "fr"})
            response = conn.getresponse()
            body = response.read()
            latencies[index].append(time.perf_counter() - started)
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}: {body[:300]!r}")
            sizes.append(len(body))
        conn.close()

    elapsed = parallel(CLIENTS, client)
    flat = [value for row in latencies for value in row]
    return elapsed / len(flat), flat, int(statistics.median(sizes))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _acme() -> tuple[Any, str]:
    """The demo Acme workspace (seed_demo's data) and its admin's session cookie."""
    from django.test import Client

    from demo.acme import seed_acme_billing
    from demo.credits import seed_acme_credits
    from workspaces import demo
    from workspaces.models import User

    acme = demo.seed_acme()
    seed_acme_billing(acme)
    seed_acme_credits(acme)
    client = Client()
    client.force_login(User.objects.get(email="admin@demo.test"))
    return acme, f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def run() -> list[dict[str, Any]]:
    acme, cookie = _acme()
    page = f"/{acme.pk}/workspace/subscription/"
    server = GunicornServer(settings_module="bench.page_settings", clients=CLIENTS)
    page_times: list[float] = []
    floor_times: list[float] = []
    page_latencies: list[float] = []
    floor_latencies: list[float] = []
    try:
        server.wait_ready(page, {"Cookie": cookie})
        _load(server.port, page, cookie, WARM_UP_PER_CLIENT)
        _spent, _latencies, page_bytes = _load(server.port, page, cookie, WARM_UP_PER_CLIENT)
        floor_path = f"/bench/floor/{acme.pk}/?bytes={page_bytes}"
        _load(server.port, floor_path, cookie, WARM_UP_PER_CLIENT)
        floor_bytes = page_bytes
        for round_ in range(ROUNDS):
            order = [(page, page_times, page_latencies), (floor_path, floor_times, floor_latencies)]
            for path, times, latencies in order if round_ % 2 == 0 else reversed(order):
                spent, measured, size = _load(server.port, path, cookie, REQUESTS_PER_CLIENT // ROUNDS)
                times.append(spent)
                latencies.extend(measured)
                if path == floor_path:
                    floor_bytes = size
    finally:
        server.stop()
    ratio = statistics.median(
        p / f if f else float("inf") for p, f in zip(page_times, floor_times, strict=True)
    )
    page_time, floor_time = statistics.median(page_times), statistics.median(floor_times)

    def ms(values: list[float], share: float) -> str:
        return f"{_percentile(values, share) * 1000:.1f}"

    name = (
        f"subscription overview, {CLIENTS} clients ({page_bytes // 1024} KiB; p50/p99 "
        f"{ms(page_latencies, 0.5)}/{ms(page_latencies, 0.99)} ms vs floor "
        f"{ms(floor_latencies, 0.5)}/{ms(floor_latencies, 0.99)} ms, {floor_bytes // 1024} KiB)"
    )
    return [
        {
            "name": name,
            "value": page_time,
            "floor": floor_time,
            "ratio": ratio,
            "limit": LIMIT,
            "ok": ratio <= LIMIT,
        }
    ]
