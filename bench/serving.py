"""What the HTTP benchmarks share: threads started together, and the app under gunicorn.

The server listens on 127.0.0.1 only, on a free port, against the benchmark database.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def parallel(count: int, target: Callable[[int], None]) -> float:
    """Run ``target(i)`` in ``count`` threads started together; wall-clock seconds."""
    barrier = threading.Barrier(count + 1)
    failures: list[BaseException] = []

    def runner(index: int) -> None:
        try:
            barrier.wait()
            target(index)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise failures[0]
    return elapsed


def database_url() -> str:
    """The URL of the database this process uses (the benchmark database)."""
    db = connection.settings_dict
    user, password, port = db["USER"], db.get("PASSWORD") or "", db.get("PORT") or ""
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host") or ""
    auth = f"{quote(user)}:{quote(password)}@"
    if host.startswith("/"):
        return f"postgresql://{auth}/{db['NAME']}?host={quote(host)}" + (f"&port={port}" if port else "")
    return f"postgresql://{auth}{host or 'localhost'}{':' + str(port) if port else ''}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class GunicornServer:
    """The app under gunicorn (gthread workers, keep-alive) on 127.0.0.1."""

    def __init__(
        self, *, settings_module: str, clients: int, extra_env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DATABASE_URL": database_url(),
            "CONN_MAX_AGE": "600",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        workers = max(2, os.cpu_count() or 2)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "config.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}", "--worker-class", "gthread",
                "--workers", str(workers), "--threads", str(clients // workers + 1),
                "--keep-alive", "60", "--log-level", "warning", "--backlog", "256",
            ],
            env=env,
            cwd=str(settings.BASE_DIR),
        )  # fmt: skip

    def wait_ready(self, path: str, headers: dict[str, str] | None = None, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited during start-up")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path, headers=headers or {})
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
