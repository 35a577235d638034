"""``make run``: one process that owns the embedded services and runs the whole stack.

It starts the embedded PostgreSQL and Redis when ``DATABASE_URL`` / ``REDIS_URL`` are
unset, and the offline Stripe (sending its webhooks to ``SITE_URL``) when
``STRIPE_SECRET_KEY`` is unset, migrates, seeds the demo data, then runs the web server,
a Celery worker and Celery beat as child processes sharing those addresses. A child that
exits is started again with a growing pause (:class:`Supervisor`): killing the worker does
not stop the web server, beat or the databases. Ctrl-C (or SIGTERM) stops them all, and
the embedded servers stop with this process.
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
    supervisor = Supervisor(commands)
    supervisor.start()
    threading.Thread(target=_catch_up_when_serving, args=(f"http://{host}:{port}/",), daemon=True).start()
    print(f"\n  SeatCredit is running at http://{host}:{port}/  (Ctrl-C stops everything)\n", flush=True)

    signal.signal(signal.SIGINT, lambda *_: supervisor.request_stop())
    signal.signal(signal.SIGTERM, lambda *_: supervisor.request_stop())
    supervisor.run()
    embedded.stop()
    return 0


class Supervisor:
    """Keeps each child running: one that exits is started again after a pause that
    doubles with each quick failure (1 s, 2 s, 4 s … at most ``max_backoff``), back to
    1 s once it has run ``healthy_after`` seconds. The others are never touched.
    :meth:`request_stop` (Ctrl-C, SIGTERM) stops them all."""

    def __init__(
        self,
        commands: dict[str, list[str]],
        *,
        max_backoff: float = 30.0,
        healthy_after: float = 60.0,
        cwd: Path = BASE_DIR,
    ) -> None:
        self.commands = commands
        self.max_backoff = max_backoff
        self.healthy_after = healthy_after
        self.cwd = cwd
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.started_at: dict[str, float] = {}
        self.backoff: dict[str, float] = dict.fromkeys(commands, 1.0)
        self.restart_at: dict[str, float] = {}
        self.restarts: dict[str, int] = dict.fromkeys(commands, 0)
        self._stopping = threading.Event()

    def _spawn(self, name: str) -> None:
        self.children[name] = subprocess.Popen(self.commands[name], cwd=self.cwd)
        self.started_at[name] = time.monotonic()

    def start(self) -> None:
        for name in self.commands:
            self._spawn(name)

    def request_stop(self) -> None:
        self._stopping.set()

    def check(self) -> None:
        """One round: note the children that exited, start again those whose pause ended."""
        now = time.monotonic()
        for name, child in self.children.items():
            if name in self.restart_at or child.poll() is None:
                continue
            if now - self.started_at[name] >= self.healthy_after:
                self.backoff[name] = 1.0
            pause = self.backoff[name]
            self.backoff[name] = min(self.max_backoff, pause * 2)
            self.restart_at[name] = now + pause
            print(
                f"{name} exited with status {child.returncode}; starting it again in {pause:.0f} s.",
                flush=True,
            )
        for name, when in list(self.restart_at.items()):
            if now >= when:
                del self.restart_at[name]
                self.restarts[name] += 1
                self._spawn(name)

    def run(self, interval: float = 0.5) -> None:
        while not self._stopping.is_set():
            self.check()
            self._stopping.wait(interval)
        self.stop()

    def stop(self, timeout: float = 15.0) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


if __name__ == "__main__":
    sys.exit(main())
