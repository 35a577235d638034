"""The offline Stripe server (localstripe) for development and tests, as a process of its own.

    python -m config.localstripe_server --port N --state-dir DIR
        [--webhook-url URL --webhook-secret SECRET] [--parent-pid PID] [--temporary] [--verbose]

localstripe is GPL-licensed: it runs in this process only and the application never
imports it (an import-linter contract checks that this module is its only importer).
:mod:`config.embedded` starts this module and hands its address to the application.

Compared with ``localstripe --port N``, the server:

- listens on 127.0.0.1 only;
- keeps its objects in ``DIR/store.pickle`` (loaded at start, written after each POST, PUT
  or DELETE), so Stripe ids survive a restart like the database rows that point to them;
- honours ``Idempotency-Key`` like Stripe: a POST repeated with the same key, API key and
  path gets the first response again (errors included, 5xx excepted) with the header
  ``Idempotent-Replayed: true``; requests sharing a key run one at a time, so concurrent
  retries create one object; a key reused with other parameters is refused. The replay
  table lives in ``DIR/idempotency.jsonl`` and keys expire after 24 hours, as at Stripe;
- registers the webhook given on the command line (localstripe keeps registrations in
  memory only);
- stops by itself when the process given by ``--parent-pid`` (its parent) ends;
- with ``--temporary`` (a test run's server), keeps its objects in memory only and removes
  ``DIR`` when it stops;
- answers ``GET /_config/server`` with its pid and state directory, so a process can tell
  that the server on a port is the one it expects.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import errno
import hashlib
import json
import logging
import os
import pickle
import shutil
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from localstripe import resources, server, webhooks

STORE_FILE = "store.pickle"
IDEMPOTENCY_FILE = "idempotency.jsonl"
#: Stripe forgets an idempotency key after 24 hours.
IDEMPOTENCY_KEY_LIFETIME = 24 * 3600
#: The exit status when the port is taken (config.embedded then tries another one).
EXIT_PORT_IN_USE = 3

logger = logging.getLogger("config.localstripe_server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step: a server stopped mid-write leaves the previous file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def keep_store_in(path: Path | None) -> None:
    """Make localstripe keep its objects in ``path`` instead of /tmp (``None``: in memory only).

    localstripe writes the whole store at every change of an object, several times per
    request, which grows slow as the store grows. Here the store is written once after each
    POST, PUT or DELETE (localstripe's ``save_store_middleware``; objects are also changed
    in place, so that write stays) and when the server stops.
    """

    def set_item(store: dict[str, Any], key: str, value: Any) -> None:
        dict.__setitem__(store, key, value)

    def del_item(store: dict[str, Any], key: str) -> None:
        dict.__delitem__(store, key)

    def try_load_from_disk(store: dict[str, Any]) -> None:
        if path is None or not path.exists():
            return
        old = pickle.loads(path.read_bytes())
        store.clear()
        store.update(old)

    def dump_to_disk(store: dict[str, Any]) -> None:
        if path is not None:
            _write_atomically(path, pickle.dumps(dict(store), protocol=pickle.HIGHEST_PROTOCOL))

    resources.Store.__setitem__ = set_item
    resources.Store.__delitem__ = del_item
    resources.Store.try_load_from_disk = try_load_from_disk
    resources.Store.dump_to_disk = dump_to_disk


def _error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response({"error": {"type": error_type, "message": message}}, status=status)


class IdempotencyReplay:
    """Stripe's idempotent requests, as an aiohttp middleware placed before localstripe's own.

    An entry is kept per (key, API key, path): the status, body and content type of the
    first response, and a fingerprint of the request's parameters.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        if path is None:
            return
        # One JSON line per entry, appended as they come: rewritten here without the expired.
        with contextlib.suppress(FileNotFoundError), path.open() as lines:
            for line in lines:
                with contextlib.suppress(ValueError, KeyError):
                    entry = json.loads(line)
                    self.entries[entry.pop("scope")] = entry
        self.entries = {scope: entry for scope, entry in self.entries.items() if not self._expired(entry)}
        _write_atomically(
            path,
            "".join(
                json.dumps({"scope": scope, **entry}) + "\n" for scope, entry in self.entries.items()
            ).encode(),
        )

    @staticmethod
    def _expired(entry: dict[str, Any]) -> bool:
        return bool(entry["created"] < time.time() - IDEMPOTENCY_KEY_LIFETIME)

    def _keep(self, scope: str, entry: dict[str, Any]) -> None:
        self.entries[scope] = entry
        if self.path is not None:
            with self.path.open("a") as lines:
                lines.write(json.dumps({"scope": scope, **entry}) + "\n")

    @staticmethod
    def _scope(request: web.Request, key: str) -> str:
        parts = [key, request.headers.get("Authorization", ""), request.path]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        scope = self._scope(request, key)
        lock = self.locks.setdefault(scope, asyncio.Lock())
        async with lock:
            # aiohttp keeps the body it read: localstripe's handlers read it again.
            fingerprint = hashlib.sha256(await request.read()).hexdigest()
            entry = self.entries.get(scope)
            if entry is not None and not self._expired(entry):
                if entry["fingerprint"] != fingerprint:
                    return _error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters "
                        f"they were first used with. Try using a key other than '{key}' if you "
                        "meant to execute a different request.",
                    )
                return web.Response(
                    status=entry["status"],
                    body=base64.b64decode(entry["body"]),
                    headers={
                        "Content-Type": entry["content_type"],
                        "Idempotency-Key": key,
                        "Idempotent-Replayed": "true",
                    },
                )
            response = await handler(request)
            response.headers["Idempotency-Key"] = key
            # Server errors are not kept (a retry runs again), nor a failed authentication:
            # Stripe checks the API key before it looks at the idempotency key.
            if (
                isinstance(response, web.Response)
                and isinstance(response.body, bytes)
                and response.status < 500
                and response.status != 401
            ):
                entry = {
                    "created": time.time(),
                    "fingerprint": fingerprint,
                    "status": response.status,
                    "content_type": response.headers.get("Content-Type", "application/json"),
                    "body": base64.b64encode(response.body).decode(),
                }
                self._keep(scope, entry)
            return response


def add_disputes(app: web.Application) -> None:
    """Disputes, which localstripe lacks: ``GET /v1/disputes/<id>`` answers like Stripe, and
    tests open or close one through ``POST /_config/disputes`` (``charge``, ``amount``,
    optional ``id`` and ``status``: Stripe's ``needs_response``, ``won``, ``lost``…)."""
    statuses = {"warning_needs_response", "needs_response", "under_review", "won", "lost"}

    async def retrieve(request: web.Request) -> web.Response:
        dispute = server.store.get(f"dispute:{request.match_info['id']}")
        if dispute is None:
            return _error(404, "invalid_request_error", "No such dispute")
        return web.json_response(dispute)

    async def configure(request: web.Request) -> web.Response:
        form = await request.post()
        dispute_id = str(form.get("id") or f"dp_{os.urandom(8).hex()}")
        current = dict(server.store.get(f"dispute:{dispute_id}") or {})
        charge = str(form.get("charge") or current.get("charge") or "")
        status = str(form.get("status") or current.get("status") or "needs_response")
        if not charge.startswith("ch_") or status not in statuses:
            return _error(400, "invalid_request_error", "charge (ch_…) and a dispute status are required")
        charged = server.store.get(f"charge:{charge}")
        intent = getattr(charged, "payment_intent", None)
        current.update(
            id=dispute_id,
            object="dispute",
            charge=charge,
            payment_intent=intent,
            amount=int(str(form.get("amount") or current.get("amount") or getattr(charged, "amount", 0))),
            currency=str(getattr(charged, "currency", "eur")),
            status=status,
            reason=str(form.get("reason") or current.get("reason") or "general"),
            created=current.get("created") or int(time.time()),
            livemode=False,
        )
        server.store[f"dispute:{dispute_id}"] = current
        return web.json_response(current)

    app.router.add_get("/v1/disputes/{id}", retrieve)
    app.router.add_post("/_config/disputes", configure)


def build_app(state_dir: Path, parent_pid: int | None = None, *, persist: bool = True) -> web.Application:
    """localstripe's application with the store, the replay layer and the parent watch.

    With ``persist``, the objects and the replay table are kept in ``state_dir`` and loaded
    from it; otherwise they live in memory only.
    """
    keep_store_in(state_dir / STORE_FILE if persist else None)
    server.store.try_load_from_disk()
    app: web.Application = server.app
    # aiohttp freezes the middlewares when the server starts: insert before running.
    app.middlewares.insert(0, IdempotencyReplay(state_dir / IDEMPOTENCY_FILE if persist else None).middleware)

    async def save_store(app: web.Application) -> None:
        # What changed outside a POST (a GET creating a test card, a delayed payment failure).
        server.store.dump_to_disk()

    app.on_cleanup.append(save_store)

    async def describe(request: web.Request) -> web.Response:
        return web.json_response({"pid": os.getpid(), "state_dir": str(state_dir)})

    app.router.add_get("/_config/server", describe)
    add_disputes(app)

    if parent_pid is not None:

        async def watch_parent() -> None:
            # The parent is gone when this process is handed to another one (init).
            while os.getppid() == parent_pid:
                await asyncio.sleep(0.5)
            logger.warning("The parent process %s ended: stopping.", parent_pid)
            os.kill(os.getpid(), signal.SIGTERM)

        tasks: list[asyncio.Task[None]] = []

        async def start_watch(app: web.Application) -> None:
            tasks.append(asyncio.create_task(watch_parent()))

        async def stop_watch(app: web.Application) -> None:
            for task in tasks:
                task.cancel()

        app.on_startup.append(start_watch)
        app.on_cleanup.append(stop_watch)
    return app


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 only."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m config.localstripe_server", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret")
    parser.add_argument("--webhook-id", default="seatcredit")
    parser.add_argument("--parent-pid", type=int, help="stop when this process (the parent) ends")
    parser.add_argument(
        "--temporary",
        action="store_true",
        help="a server for one test run: objects in memory only, the state directory removed at the end",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if bool(args.webhook_url) != bool(args.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="localstripe %(levelname)s %(message)s",
    )
    if args.parent_pid is not None and os.getppid() != args.parent_pid:
        logger.warning("The parent process %s is gone already.", args.parent_pid)
        return 1
    state_dir = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        sock = bind(args.port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            print(f"localstripe: port {args.port} is in use", file=sys.stderr)
            return EXIT_PORT_IN_USE
        raise
    app = build_app(state_dir, args.parent_pid, persist=not args.temporary)
    if args.webhook_url:
        webhooks.register_webhook(args.webhook_id, args.webhook_url, args.webhook_secret, None)
    web.run_app(
        app,
        sock=sock,
        shutdown_timeout=2,
        access_log=logging.getLogger("aiohttp.access") if args.verbose else None,
        print=print if args.verbose else None,
    )
    if args.temporary:
        shutil.rmtree(state_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
