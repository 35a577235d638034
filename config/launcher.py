"""``make run``: one process that owns the embedded services and runs the whole stack.

It starts the embedded PostgreSQL and Redis when ``DATABASE_URL`` / ``REDIS_URL`` are
unset, and the offline Stripe (sending its webhooks to ``SITE_URL``) when
``STRIPE_SECRET_KEY`` is unset, migrates, seeds the demo data, then runs the web server,
a Celery worker and Celery beat as child processes sharing those addresses. Ctrl-C (or
SIGTERM) stops them all, and the embedded servers stop with this process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def _run_step(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, check=True)


def _catch_up_when_serving(url: str) -> None:
    """The demo's charges were made before the web server listened, so their webhooks
    found no one: once it answers, read them back from Stripe (the scheduled catch-up,
    run now)."""
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - our own loopback address
        except urllib.error.HTTPError:
            break  # it answers (a redirect to sign in, or an error page)
        except OSError:
            time.sleep(0.5)
            continue
        break
    subprocess.run([sys.executable, "manage.py", "stripe_events", "catch-up"], cwd=BASE_DIR, check=False)


def main() -> int:
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    # Before the embedded services: the offline Stripe sends its webhooks to this site.
    os.environ.setdefault("SITE_URL", f"http://{host}:{port}")
    embedded.ensure_environment()

    _run_step("migrate", "--noinput")
    _run_step("seed_demo")

    celery = [sys.executable, "-m", "celery", "-A", "config"]
    schedule = embedded.VAR_DIR / "celerybeat-schedule"
    commands = {
        "web": [sys.executable, "manage.py", "runserver", f"{host}:{port}"],
        "worker": [*celery, "worker", "--loglevel=INFO", "--concurrency=2"],
        "beat": [*celery, "beat", "--loglevel=INFO", f"--schedule={schedule}"],
    }
    children = {name: subprocess.Popen(cmd, cwd=BASE_DIR) for name, cmd in commands.items()}
    threading.Thread(target=_catch_up_when_serving, args=(f"http://{host}:{port}/",), daemon=True).start()
    print(f"\n  SeatCredit is running at http://{host}:{port}/  (Ctrl-C stops everything)\n", flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} exited with status {child.returncode}; stopping.", flush=True)
                exit_code = child.returncode or 1
                stopping = True
        time.sleep(0.5)

    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    embedded.stop()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
