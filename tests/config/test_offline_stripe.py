"""The offline Stripe (config.localstripe_server, started by config.embedded) where the product
relies on it: loopback only, Stripe's idempotent requests, objects kept across a restart,
signed webhooks, and no server left behind."""

import http.server
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest
import stripe

from config import embedded

BASE_DIR = Path(__file__).resolve().parents[2]
API_BASE = os.environ.get("STRIPE_API_BASE", "")

pytestmark = pytest.mark.skipif(
    not API_BASE.startswith("http://127.0.0.1:"),
    reason="the run talks to a Stripe account (STRIPE_SECRET_KEY is set), not the offline Stripe",
)


def client_for(url: str = API_BASE) -> stripe.StripeClient:
    return stripe.StripeClient(
        embedded.OFFLINE_STRIPE_SECRET_KEY, base_addresses={"api": url}, max_network_retries=0
    )


def described(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_config/server", timeout=5) as response:
        return json.loads(response.read())


def pay(client: stripe.StripeClient, customer: str, key: str) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": 1200,
            "currency": "eur",
            "customer": customer,
            "payment_method": "pm_card_visa",
            "confirm": True,
        },
        options={"idempotency_key": key},
    )


def intents_of(client: stripe.StripeClient, customer: str) -> list[str]:
    # localstripe lists payment intents without the customer filter.
    intents = client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    return [intent.id for intent in intents if intent.customer == customer]


def charge_of(intent: stripe.PaymentIntent) -> str:
    # localstripe returns latest_charge expanded; Stripe returns its id unless asked.
    charge = intent.latest_charge
    assert charge is not None
    return charge if isinstance(charge, str) else charge.id


def charges_of(client: stripe.StripeClient, customer: str) -> list[str]:
    charges = client.v1.charges.list(params={"customer": customer, "limit": 100})
    return [charge.id for charge in charges.data]


@pytest.fixture
def client() -> stripe.StripeClient:
    return client_for()


@pytest.fixture
def customer(client) -> str:
    return client.v1.customers.create(params={"email": "payer@example.test"}).id


@pytest.fixture
def throwaway(tmp_path):
    """Start offline Stripe servers of the test's own (in tmp_path) and stop them at the end."""
    started: list[embedded.StripeServer] = []

    def start(state_dir: Path = tmp_path / "state", **webhook: str) -> embedded.StripeServer:
        state_dir.mkdir(exist_ok=True)
        server = embedded._start_stripe(state_dir, webhook.get("url"), webhook.get("secret"))
        started.append(server)
        return server

    yield start
    for server in started:
        embedded._stop_stripe(server)


def test_the_run_has_an_offline_stripe_of_its_own():
    server = embedded._servers.get("private-stripe")
    assert server is not None, "config.test_settings starts the run's offline Stripe"
    assert server.url == API_BASE
    assert os.environ["STRIPE_SECRET_KEY"] == "sk_test_offline"
    assert os.environ["STRIPE_JS_URL"] == f"{API_BASE}/js.stripe.com/v3/"
    assert described(API_BASE)["pid"] == server.process.pid


def test_it_listens_on_the_loopback_address_only():
    pid = described(API_BASE)["pid"]
    port = int(API_BASE.rsplit(":", 1)[1])
    listening = [
        c for c in psutil.Process(pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN
    ]
    assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", port)]
    # And from the outside: the port is closed on every other address of the machine.
    others = [
        address.address.split("%")[0]
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family in (socket.AF_INET, socket.AF_INET6)
        and not address.address.startswith(("127.", "::1"))
    ]
    for address in others:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            assert sock.connect_ex((address, port)) != 0, f"the offline Stripe answers on {address}"


def test_a_retried_request_gets_the_first_answer_and_charges_once(client, customer):
    key = str(uuid.uuid4())
    first = pay(client, customer, key)
    again = pay(client, customer, key)
    assert first.status == "succeeded"
    assert again.id == first.id
    assert charge_of(again) == charge_of(first)
    assert intents_of(client, customer) == [first.id]
    assert charges_of(client, customer) == [charge_of(first)]


def test_a_replay_says_so_and_a_key_reused_with_other_parameters_is_refused(customer):
    key = str(uuid.uuid4())
    headers = {"Authorization": "Bearer sk_test_offline", "Idempotency-Key": key}

    def post(amount: int) -> tuple[int, dict, dict]:
        data = f"amount={amount}&currency=eur&customer={customer}".encode()
        request = urllib.request.Request(f"{API_BASE}/v1/payment_intents", data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read())

    status, first_headers, first = post(500)
    assert status == 200
    assert "Idempotent-Replayed" not in first_headers
    status, replay_headers, replay = post(500)
    assert (status, replay["id"], replay_headers["Idempotent-Replayed"]) == (200, first["id"], "true")
    status, _, refused = post(700)
    assert status == 400
    assert refused["error"]["type"] == "idempotency_error"


def test_an_error_is_replayed_too(client):
    key = str(uuid.uuid4())
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.payment_intents.create(
                params={"amount": 100, "currency": "eur", "customer": "cus_missing"},
                options={"idempotency_key": key},
            )
        assert error.value.http_status == 404
    assert error.value.headers.get("Idempotent-Replayed") == "true"


def test_two_keys_make_two_payments(client, customer):
    first = pay(client, customer, str(uuid.uuid4()))
    second = pay(client, customer, str(uuid.uuid4()))
    assert first.id != second.id
    assert sorted(intents_of(client, customer)) == sorted([first.id, second.id])
    assert len(charges_of(client, customer)) == 2


def test_concurrent_requests_with_one_key_make_one_payment(customer):
    key = str(uuid.uuid4())
    barrier = threading.Barrier(16)
    ids: list[str] = []

    def request() -> None:
        own_client = client_for()
        barrier.wait()
        ids.append(pay(own_client, customer, key).id)

    threads = [threading.Thread(target=request) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(ids) == 16
    assert len(set(ids)) == 1
    assert intents_of(client_for(), customer) == ids[:1]
    assert len(charges_of(client_for(), customer)) == 1


def test_requests_sharing_a_key_run_one_at_a_time_even_when_the_handler_waits(tmp_path):
    """localstripe's handlers never wait once the body is read, so the test above cannot see
    the per-key lock: here the replay layer runs (in a process of its own: the test process
    never imports localstripe) in front of a handler that waits before it answers."""
    script = """
import asyncio, sys
from pathlib import Path
from aiohttp import ClientSession, web
from config.localstripe_server import IdempotencyReplay

calls = []

async def create(request):
    await asyncio.sleep(0.05)
    calls.append(1)
    return web.json_response({"id": f"pi_{len(calls)}"})

async def main():
    app = web.Application(middlewares=[IdempotencyReplay(Path(sys.argv[1])).middleware])
    app.router.add_post("/v1/payment_intents", create)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    headers = {"Authorization": "Bearer sk_test_offline", "Idempotency-Key": "one"}
    async with ClientSession() as session:
        async def post():
            url = f"http://127.0.0.1:{port}/v1/payment_intents"
            async with session.post(url, data={"amount": "100"}, headers=headers) as response:
                return (await response.json())["id"]
        ids = await asyncio.gather(*(post() for _ in range(16)))
    await runner.cleanup()
    print(len(calls), len(set(ids)))

asyncio.run(main())
"""
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "idempotency.json")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=BASE_DIR,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1"]


def test_objects_and_idempotency_keys_survive_a_restart(throwaway, tmp_path):
    state_dir = tmp_path / "state"
    server = throwaway(state_dir)
    client = client_for(server.url)
    key = str(uuid.uuid4())
    created = client.v1.customers.create(
        params={"email": "kept@example.test"}, options={"idempotency_key": key}
    )
    (state_dir / "server.json").write_text(json.dumps({"pid": server.process.pid, "port": server.port}))
    assert embedded._running_stripe(state_dir) == server.url  # another process would join it

    embedded._stop_stripe(server)
    assert embedded._running_stripe(state_dir) is None
    assert {"store.pickle", "idempotency.jsonl"} <= {path.name for path in state_dir.iterdir()}
    restarted = throwaway(state_dir)
    client = client_for(restarted.url)
    assert client.v1.customers.retrieve(created.id).email == "kept@example.test"
    replayed = client.v1.customers.create(
        params={"email": "kept@example.test"}, options={"idempotency_key": key}
    )
    assert replayed.id == created.id
    assert [c.id for c in client.v1.customers.list().data] == [created.id]


class WebhookReceiver(http.server.ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1, in a thread, keeping what is posted to it."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[str, bytes, str]] = queue.Queue()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.put((self.path, payload, self.headers["Stripe-Signature"]))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def event(self, event_type: str, secret: str) -> tuple[str, stripe.Event, bytes, str]:
        """The first delivery of ``event_type``: its path, the verified event, the payload
        and the signature header."""
        while True:
            # localstripe waits a second before sending (and its first balance query sends
            # balance.available: the readiness check makes one).
            path, payload, signature = self.received.get(timeout=10)
            event = stripe.Webhook.construct_event(payload, signature, secret)
            if event.type == event_type:
                return path, event, payload, signature


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.shutdown()
    server.server_close()


def test_the_webhook_given_at_start_receives_signed_events(throwaway, receiver):
    secret = "whsec_webhook_test"
    server = throwaway(url=f"{receiver.url}/webhooks/stripe/", secret=secret)
    created = client_for(server.url).v1.customers.create(params={"email": "hook@example.test"})
    path, event, payload, signature = receiver.event("customer.created", secret)
    assert path == "/webhooks/stripe/"
    assert event.data.object.id == created.id
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_another_secret")


def test_development_processes_share_one_server_stopped_by_the_one_that_started_it(tmp_path, receiver):
    """``make run`` starts the server; a ``manage.py`` command run beside it joins it (and
    points the webhook to its own SITE_URL) and leaves it running when it ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env.update(EMBEDDED_DATA_DIR=str(tmp_path), DEBUG="1", SITE_URL="http://127.0.0.1:9/")
    owner_script = """
import sys
from config import embedded
variables = embedded.stripe_environment()
print(variables["STRIPE_API_BASE"], embedded._servers["stripe"].process.pid, flush=True)
sys.stdin.readline()
embedded.stop()
"""
    owner = subprocess.Popen(
        [sys.executable, "-c", owner_script],
        env=env,
        cwd=BASE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url, pid = owner.stdout.readline().split()
        joiner_script = """
from config import embedded
variables = embedded.stripe_environment()
print(variables["STRIPE_API_BASE"], variables["STRIPE_WEBHOOK_SECRETS"], "stripe" in embedded._servers)
embedded.stop()
"""
        joined = subprocess.run(
            [sys.executable, "-c", joiner_script],
            env={**env, "SITE_URL": receiver.url},
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert joined.stdout.split() == [url, "whsec_offline_development", "False"]
        assert described(url)["pid"] == int(pid)  # still running after the joiner's stop()
        created = client_for(url).v1.customers.create(params={"email": "joined@example.test"})
        path, event, _, _ = receiver.event("customer.created", "whsec_offline_development")
        assert (path, event.data.object.id) == ("/webhooks/stripe/", created.id)
        assert json.loads((tmp_path / "localstripe" / "server.json").read_text())["pid"] == int(pid)
    finally:
        owner.communicate("\n", timeout=30)
    assert owner.returncode == 0
    assert not running(int(pid))
    assert not (tmp_path / "localstripe" / "server.json").exists()
    assert (tmp_path / "localstripe" / "store.pickle").exists()


def test_a_stopped_server_is_gone(throwaway, tmp_path):
    server = throwaway()
    pid = server.process.pid
    embedded._stop_stripe(server)
    assert server.process.returncode is not None
    assert not running(pid)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", server.port)) != 0


def test_a_private_server_ends_with_its_process_even_when_it_is_killed():
    """A killed test run cannot call stop(): its offline Stripe notices and stops (and
    removes its temporary directory) by itself."""
    script = """
import os, signal
from config import embedded
embedded.private_stripe_url()
server = embedded._servers["private-stripe"]
print(server.process.pid, server.state_dir, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=BASE_DIR
    )
    pid, state_dir = result.stdout.split()
    deadline = time.monotonic() + 10
    while running(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(int(pid))
    assert not Path(state_dir).exists()


def running(pid: int) -> bool:
    """Whether the process runs (an ended orphan may wait a while as a zombie for its reaper)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
