"""The production stack on this machine, from Debian's packages: PostgreSQL and Redis, the
offline Stripe, gunicorn (DEBUG off), Celery workers and beat, configured only through the
environment as in docker-compose.yml. Every process is ours and stopped at the end."""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import psycopg
from aiosmtpd.controller import Controller

BASE_DIR = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "")) if os.environ.get("PG_BIN") else None
WEBHOOK_SECRET = "whsec_smoke_" + secrets.token_hex(8)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin() -> Path:
    if PG_BIN:
        return PG_BIN
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    if not versions:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql")
    return versions[-1].parent


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: Debian's ``postgres`` user runs it then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def wait_for(condition: Callable[[], Any], seconds: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + seconds
    error: Exception | None = None
    while True:
        try:
            value = condition()
        except Exception as exc:  # not there yet (a server starting, a row not written)
            value, error = None, exc
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what} (last error: {error!r})")
        time.sleep(interval)


#: Deliveries one smoke worker runs at once.
WORKER_CONCURRENCY = 2


class Inbox:
    """An SMTP server (aiosmtpd) standing for the mail provider: every message it accepted."""

    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.delay = delay

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow provider: a worker may die mid-conversation
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def subjects(self) -> list[str]:
        from email.header import decode_header, make_header

        with self.lock:
            return [str(make_header(decode_header(m["Subject"] or ""))) for m in self.messages]

    def identified_subjects(self) -> list[tuple[str, str]]:
        """(Message-ID, subject) of every message accepted, in order, copies included."""
        from email.header import decode_header, make_header

        with self.lock:
            return [
                (str(m["Message-ID"] or ""), str(make_header(decode_header(m["Subject"] or ""))))
                for m in self.messages
            ]

    def bodies(self) -> list[str]:
        with self.lock:
            out = []
            for m in self.messages:
                part = m.get_body(("plain",)) if hasattr(m, "get_body") else m
                payload = (part or m).get_payload(decode=True)
                out.append(payload.decode() if isinstance(payload, bytes) else str(m.get_payload()))
            return out


@dataclass
class Stack:
    root: Path
    web_port: int = field(default_factory=free_port)
    pg_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    stripe_port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    web_instances: int = 1
    workers: int = 2
    smtp_delay: float = 0.0
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    inbox: Inbox = field(init=False)
    _smtp: Controller | None = None
    timings: dict[str, float] = field(default_factory=dict)

    # --- addresses ---------------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return f"postgres://seatcredit:seatcredit@127.0.0.1:{self.pg_port}/seatcredit"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def stripe_url(self) -> str:
        return f"http://127.0.0.1:{self.stripe_port}"

    def web_url(self, instance: int = 0) -> str:
        return f"http://127.0.0.1:{self.web_port + instance}"

    def environment(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "DJANGO_", "CELERY_"))}
        keep.update(
            ENV_FILE="",
            DEBUG="0",
            # The settings take the offline Stripe only in a test; this run is one.
            DJANGO_TEST_SUITE="1",
            SECRET_KEY="smoke-" + secrets.token_urlsafe(48),
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SITE_URL=self.web_url(),
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            SECURE_HSTS_SECONDS="0",
            ACCOUNT_DEFAULT_HTTP_PROTOCOL="http",
            EMAIL_URL=f"smtp://127.0.0.1:{self.smtp_port}",
            STRIPE_API_BASE=self.stripe_url,
            STRIPE_SECRET_KEY="sk_test_offline",
            STRIPE_PUBLISHABLE_KEY="pk_test_offline",
            STRIPE_WEBHOOK_SECRETS=WEBHOOK_SECRET,
            STRIPE_JS_URL=f"{self.stripe_url}/js.stripe.com/v3/",
            # Short pauses so that a dead worker's work comes back within the run.
            OUTBOX_LEASE_SECONDS="10",
            OUTBOX_REDRIVE_SECONDS="2",
            CELERY_VISIBILITY_TIMEOUT="20",
            PROMETHEUS_MULTIPROC_DIR=str(self.root / "prometheus"),
            LOG_FORMAT="json",
            MEDIA_ROOT=str(self.root / "media"),
            EMBEDDED_DATA_DIR=str(self.root / "embedded"),
        )
        keep.update(self.extra_env)
        return keep

    # --- servers -----------------------------------------------------------------------------------
    def _spawn(self, name: str, command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        log = (self.root / "logs" / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=kwargs.pop("env", self.environment()),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kwargs,
        )
        self.processes[name] = process
        return process

    def start_postgres(self) -> None:
        pg = _pg_bin()
        data = self.root / "pgdata"
        if not data.exists():
            data.mkdir()
            if os.geteuid() == 0:
                shutil.chown(data, "postgres", "postgres")
            subprocess.run(
                _as_postgres(
                    [str(pg / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        self._spawn(
            "postgres",
            _as_postgres(
                [
                    str(pg / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.pg_port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    str(self.root / "pgsocket"),
                    "-c",
                    "max_connections=300",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                ]
            ),  # fmt: skip
        )

        def ready() -> bool:
            with psycopg.connect(f"postgres://postgres@127.0.0.1:{self.pg_port}/postgres", connect_timeout=2):
                return True

        wait_for(ready, 60, "PostgreSQL")
        with psycopg.connect(
            f"postgres://postgres@127.0.0.1:{self.pg_port}/postgres", autocommit=True
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'seatcredit'").fetchone()
            if not exists:
                conn.execute("CREATE ROLE seatcredit LOGIN PASSWORD 'seatcredit' CREATEDB")
                conn.execute("CREATE DATABASE seatcredit OWNER seatcredit")

    def start_redis(self) -> None:
        self._spawn(
            "redis",
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.root / "redis"),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--daemonize",
                "no",
            ],  # fmt: skip
        )
        wait_for(lambda: self._redis_ping(), 30, "Redis")

    def _redis_ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop_redis(self) -> None:
        """A clean restart as an operator or an orchestrator does it (SIGTERM: the
        append-only file is flushed)."""
        self._stop("redis")

    def start_stripe(self) -> None:
        self._spawn(
            "stripe",
            [
                sys.executable,
                "-m",
                "config.localstripe_server",
                f"--port={self.stripe_port}",
                f"--state-dir={self.root / 'stripe'}",
                f"--webhook-url={self.web_url()}/webhooks/stripe/",
                f"--webhook-secret={WEBHOOK_SECRET}",
            ],  # fmt: skip
        )
        wait_for(
            lambda: socket.create_connection(("127.0.0.1", self.stripe_port), timeout=1),
            30,
            "the offline Stripe",
        )

    def start_smtp(self) -> None:
        self.inbox = Inbox(delay=self.smtp_delay)
        self._smtp = Controller(self.inbox, hostname="127.0.0.1", port=self.smtp_port)
        self._smtp.start()

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.environment(),
            check=check,
            capture_output=True,
            text=True,
        )

    def start_web(self, instance: int = 0, workers: int = 2) -> None:
        self._spawn(
            f"web{instance}",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port + instance}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
                "--timeout",
                "60",
            ],  # fmt: skip
        )
        import urllib.request

        wait_for(
            lambda: urllib.request.urlopen(self.web_url(instance) + "/healthz", timeout=2), 60, "gunicorn"
        )  # noqa: S310

    def start_worker(self, number: int, concurrency: int = WORKER_CONCURRENCY) -> None:
        self._spawn(
            f"worker{number}",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={concurrency}",
                f"--hostname=worker{number}@%h",
                "--without-gossip",
                "--without-mingle",
            ],  # fmt: skip
        )

    def start_beat(self) -> None:
        self._spawn(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                f"--schedule={self.root / 'celerybeat-schedule'}",
            ],  # fmt: skip
        )

    def kill(self, name: str) -> None:
        """SIGKILL: no exit hook, no acknowledgement, as a machine that loses power."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def _stop(self, name: str, timeout: float = 20) -> None:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        order = [n for n in self.processes if n.startswith(("web", "worker", "beat"))]
        order += [n for n in ("stripe", "redis", "postgres") if n in self.processes]
        for name in order:
            self._stop(name)
        if self._smtp is not None:
            self._smtp.stop()

    # --- the database, read directly for the checks -------------------------------------------------
    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return list(conn.execute(query, params).fetchall())  # type: ignore[arg-type]

    def scalar(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        rows = self.sql(query, params)
        return rows[0][0] if rows else None


@contextlib.contextmanager
def running_stack(*, keep: bool = False, **options: Any) -> Iterator[Stack]:
    """Start the servers (not the application processes) in a fresh folder; stop all at the end."""
    root = Path(tempfile.mkdtemp(prefix="seatcredit-ops-"))
    root.chmod(0o755)
    for sub in ("logs", "redis", "stripe", "prometheus", "media", "pgsocket"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        shutil.chown(root / "pgsocket", "postgres", "postgres")
    stack = Stack(root=root, **options)
    try:
        started = time.monotonic()
        stack.start_smtp()
        stack.start_postgres()
        stack.start_redis()
        stack.timings["servers"] = time.monotonic() - started
        yield stack
    finally:
        stack.stop()
        if keep or os.environ.get("KEEP_OPS_DIR"):
            print(f"logs kept in {root}/logs")
        else:
            shutil.rmtree(root, ignore_errors=True)


def prepare_application(stack: Stack) -> None:
    """Migrations and static files, as the web service of docker-compose does at start."""
    started = time.monotonic()
    stack.manage("migrate", "--noinput")
    stack.manage("collectstatic", "--noinput")
    stack.timings["migrate"] = time.monotonic() - started
