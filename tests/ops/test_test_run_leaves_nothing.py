"""`make test` leaves no process behind: a test session stops the Redis and the offline
Stripe it started when it ends, and they stop by themselves when it is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from django.conf import settings


def _processes_under(directory: Path) -> list[str]:
    """The live processes whose command line names ``directory`` (their sockets and
    folders are in it)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        command = " ".join(process.info["cmdline"] or [])
        if str(directory) in command and process.pid != os.getpid():
            found.append(f"{process.pid}: {command}")
    return found


def _servers_under(directory: Path) -> set[str]:
    names = set()
    for line in _processes_under(directory):
        for name in ("redis-server", "localstripe_server"):
            if name in line:
                names.add(name)
    return names


def _none_left_under(directory: Path, seconds: float = 15) -> list[str]:
    deadline = time.monotonic() + seconds
    while _processes_under(directory) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _processes_under(directory)


def _environment(tmp_path: Path) -> dict[str, str]:
    """A test process from scratch: its own Redis and offline Stripe (in ``tmp_path``), the
    database server of this run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STRIPE_") and k not in ("REDIS_URL", "DJANGO_TEST_SUITE")
    }
    env["TMPDIR"] = str(tmp_path)
    return env


def test_a_test_session_stops_the_servers_it_started(tmp_path):
    session = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests/domain/test_money.py"],
        cwd=settings.BASE_DIR,
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: set[str] = set()
    while session.poll() is None:
        seen |= _servers_under(tmp_path)
        time.sleep(0.1)
    output = session.stdout.read() if session.stdout else ""
    assert session.returncode == 0, output[-3000:]
    assert seen == {"redis-server", "localstripe_server"}  # it did start them
    assert _none_left_under(tmp_path) == []


def test_the_servers_of_a_killed_test_process_stop_by_themselves(tmp_path):
    script = (
        "import os, time, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.test_settings'; "
        "django.setup(); print('ready', flush=True); time.sleep(120)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        assert _servers_under(tmp_path) == {"redis-server", "localstripe_server"}
    finally:
        process.send_signal(signal.SIGKILL)  # no exit hook runs
        process.wait()
    assert _none_left_under(tmp_path) == []
