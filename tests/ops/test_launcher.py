"""`make run` supervises its children: one that dies is started again with a growing pause,
the others keep running (finding: killing the worker stopped web, beat and the databases)."""

from __future__ import annotations

import signal
import sys
import threading
import time

from config.launcher import Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def _wait(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_killed_child_is_started_again_with_backoff_and_the_others_keep_running():
    supervisor = Supervisor({"web": SLEEPER, "worker": SLEEPER, "beat": SLEEPER}, max_backoff=4.0)
    supervisor.start()
    runner = threading.Thread(target=supervisor.run, kwargs={"interval": 0.05})
    runner.start()
    try:
        pids = {name: child.pid for name, child in supervisor.children.items()}

        killed_at = time.monotonic()
        supervisor.children["worker"].send_signal(signal.SIGKILL)
        assert _wait(lambda: supervisor.children["worker"].pid != pids["worker"])
        first_pause = time.monotonic() - killed_at
        assert 0.9 <= first_pause < 3.0  # about 1 s
        assert supervisor.children["worker"].poll() is None
        # The web server and beat were never touched.
        assert {name: supervisor.children[name].pid for name in ("web", "beat")} == {
            "web": pids["web"],
            "beat": pids["beat"],
        }

        # Dying again at once: the pause doubles (2 s).
        second = supervisor.children["worker"].pid
        killed_at = time.monotonic()
        supervisor.children["worker"].send_signal(signal.SIGKILL)
        assert _wait(lambda: supervisor.children["worker"].pid != second)
        assert 1.9 <= time.monotonic() - killed_at < 4.0
        assert supervisor.restarts == {"web": 0, "worker": 2, "beat": 0}
    finally:
        supervisor.request_stop()
        runner.join(timeout=20)
    # Stopping stops every child.
    assert all(child.poll() is not None for child in supervisor.children.values())


def test_a_child_that_ran_long_enough_starts_again_after_the_shortest_pause():
    supervisor = Supervisor({"worker": SLEEPER}, healthy_after=0.0)
    supervisor.backoff["worker"] = 16.0  # it failed quickly several times before
    supervisor.start()
    try:
        supervisor.children["worker"].send_signal(signal.SIGKILL)
        supervisor.children["worker"].wait()
        supervisor.check()
        assert 0.9 <= supervisor.restart_at["worker"] - time.monotonic() <= 1.0
    finally:
        supervisor.stop()
