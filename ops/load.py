"""``make load``: 16 clients × 2,000 consumes across 100 workspaces on two gunicorn
instances and two Celery workers sharing one PostgreSQL, with a worker killed (SIGKILL) and
Redis restarted during the run (docs/scaling.md#what-is-tested).

Checks: no 5xx outside the Redis restart window; every balance equals its ledger; each
workspace's 80 % and 100 % notices emailed exactly once, in that order. Prints its figures.
Sizes can be changed: ``CLIENTS``, ``REQUESTS`` (per client), ``WORKSPACES``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from ops.journey import Results, run_clients
from ops.smoke import check_exactly_once, provision
from ops.stack import prepare_application, running_stack, wait_for

CLIENTS = int(os.environ.get("CLIENTS", 16))
REQUESTS = int(os.environ.get("REQUESTS", 2000))
WORKSPACES = int(os.environ.get("WORKSPACES", 100))
#: Seconds after Redis is back that still count as the restart window.
GRACE = 5.0


def main() -> int:
    figures: dict[str, object] = {}
    # The per-key rate limit is not what is measured here.
    with running_stack(extra_env={"API_RATE_LIMIT": "1000000/min"}) as stack:
        prepare_application(stack)
        stack.start_stripe()
        stack.start_web(0, workers=2)
        stack.start_web(1, workers=2)
        stack.start_worker(1)
        stack.start_worker(2)
        stack.start_beat()
        per_workspace = CLIENTS * REQUESTS // WORKSPACES + 1
        workspaces = provision(stack, WORKSPACES, "load", credits=per_workspace)
        results = Results()
        total = CLIENTS * REQUESTS
        started = time.monotonic()
        threads = run_clients(stack, workspaces, CLIENTS, REQUESTS, results)

        def done() -> int:
            with results.lock:
                return len(results.samples)

        wait_for(lambda: done() >= total * 0.3, 3600, "30 % of the requests", interval=0.5)
        stack.kill("worker1")
        killed_at = time.monotonic()
        wait_for(lambda: done() >= total * 0.4, 3600, "40 % of the requests", interval=0.5)
        window_start = time.monotonic()
        stack.stop_redis()
        time.sleep(2.0)
        stack.start_redis()
        window_end = time.monotonic() + GRACE
        stack.start_worker(1)  # as the supervisor does
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        wait_for(
            lambda: stack.scalar("SELECT count(*) FROM outbox_message WHERE status <> 'sent'") == 0,
            300,
            "the outbox to drain",
        )
        samples = results.samples

        # A request is in the restart window when it was in flight at any moment of it.
        def in_window(sample: tuple[float, int, float]) -> bool:
            return sample[0] <= window_end and sample[0] + sample[2] >= window_start

        outside = [s for s in samples if s[1] >= 500 and not in_window(s)]
        inside = [s for s in samples if s[1] >= 500 and in_window(s)]
        latencies = sorted(s[2] for s in samples)
        statuses: dict[int, int] = {}
        for _moment, status, _seconds in samples:
            statuses[status] = statuses.get(status, 0) + 1
        figures.update(
            requests=len(samples),
            statuses=dict(sorted(statuses.items())),
            seconds=round(elapsed, 1),
            per_second=round(len(samples) / elapsed, 1),
            p50_ms=round(statistics.median(latencies) * 1000, 1),
            p95_ms=round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
            p99_ms=round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
            worker_killed_at_s=round(killed_at - started, 1),
            redis_restart_window_s=[round(window_start - started, 1), round(window_end - started, 1)],
            fivexx_in_window=len(inside),
            fivexx_outside_window=len(outside),
        )
        # The ledger: every balance equals its ledger, every answered consume charged once.
        ids = [ws for ws, _k, _e in workspaces]
        for ws in ids:
            charged = stack.scalar(
                "SELECT count(*) FROM credits_ledgerentry WHERE workspace_id = %s AND kind = 'consume'", (ws,)
            )
            assert charged >= results.consumed.get(ws, 0), (ws, charged, results.consumed.get(ws))
        answered = sum(results.consumed.values())
        charged_total = stack.scalar(
            "SELECT count(*) FROM credits_ledgerentry WHERE kind = 'consume' AND workspace_id = ANY(%s::uuid[])",
            (ids,),
        )
        # Only a request that got no answer may have been charged without a 200.
        assert answered <= charged_total <= answered + len(inside) + len(outside), (answered, charged_total)
        figures.update(check_exactly_once(stack, ids, names=[f"load {n}" for n in range(WORKSPACES)]))
        figures["outbox_rows_redelivered"] = stack.scalar(
            "SELECT count(*) FROM outbox_message WHERE attempts > 1"
        )
        figures["consumes_answered_200"] = answered
        figures["consumes_in_ledger"] = charged_total
        for name, value in figures.items():
            print(f"  {name}: {value}", flush=True)
        assert not outside, f"{len(outside)} server errors outside the Redis restart window"
    print("\nmake load: green.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
