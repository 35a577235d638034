"""A customer's journey over HTTP, as a browser would make it (Stripe.js's part made with the
Stripe SDK against the offline Stripe)."""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
import stripe

from ops.stack import Stack, wait_for

PASSWORD = "a-Long-passphrase-42"  # noqa: S105 - a test account's


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)" name="{name}"', html
    )
    if match is None:
        raise AssertionError(f"no {name} on the page")
    return match.group(1)


def _csrf(html: str) -> str:
    return _hidden(html, "csrfmiddlewaretoken")


@dataclass
class Customer:
    stack: Stack
    email: str
    session: requests.Session
    workspace_id: str = ""
    api_key: str = ""

    @property
    def base(self) -> str:
        return self.stack.web_url()

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **kwargs)

    def post_form(self, path: str, data: dict[str, Any], page: str | None = None) -> requests.Response:
        html = self.get(page or path).text
        return self.session.post(
            self.base + path,
            data={"csrfmiddlewaretoken": _csrf(html), **data},
            headers={"Referer": self.base + (page or path)},
            allow_redirects=False,
            timeout=30,
        )

    def tenant(self, path: str) -> str:
        return f"/{self.workspace_id}/workspace/{path}"


def sign_up(stack: Stack, email: str) -> Customer:
    """Sign up, then follow the confirmation link that arrives by email."""
    customer = Customer(stack, email, requests.Session())
    response = customer.post_form(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302, (response.status_code, response.text[:500])

    def link() -> str | None:
        for body in stack.inbox.bodies():
            found = re.search(r"(/accounts/confirm-email/[^\s/]+/)", body)
            if found and _for(stack, email, found.group(1)):
                return found.group(1)
        return None

    path = wait_for(link, 60, f"the confirmation email of {email}")
    confirmed = customer.post_form(path, {})
    assert confirmed.status_code == 302, confirmed.status_code
    return customer


def _for(stack: Stack, email: str, path: str) -> bool:
    with stack.inbox.lock:
        for message in stack.inbox.messages:
            if message["To"] == email and path in str(message.get_payload(decode=True) or b""):
                return True
    return False


def create_workspace(customer: Customer, name: str) -> None:
    response = customer.post_form("/workspaces/", {"name": name, "country": "fr"})
    assert response.status_code == 302, (response.status_code, response.text[:500])
    customer.workspace_id = response.headers["Location"].strip("/").split("/")[0]
    uuid.UUID(customer.workspace_id)


def stripe_client(stack: Stack) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_offline", base_addresses={"api": stack.stripe_url})


def save_card(customer: Customer, number: str = "4242424242424242") -> None:
    """The card page: its SetupIntent confirmed as Stripe.js does, then posted back."""
    page = customer.get(customer.tenant("payment/card/")).text
    secret = re.search(r'data-client-secret="([^"]*)"', page)
    assert secret is not None, "no SetupIntent on the card page"
    intent = secret.group(1).split("_secret_")[0]
    client = stripe_client(customer.stack)
    method = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2039, "cvc": "123"}}
    )
    client.v1.setup_intents.confirm(intent, params={"payment_method": method.id})
    response = customer.post_form(customer.tenant("payment/card/"), {"setup_intent": intent})
    assert response.status_code == 302, (response.status_code, response.text[:800])


def subscribe(customer: Customer, plan: str) -> requests.Response:
    """The plans page, the preview of ``plan``, then its confirmation."""
    plans = customer.get(customer.tenant("subscription/plans/")).text
    price = _price_of(plans, plan)
    preview = customer.get(customer.tenant("subscription/plans/preview/"), params={"price": price})
    assert preview.status_code == 200, preview.status_code
    form = {
        "price": price,
        "fingerprint": _hidden(preview.text, "fingerprint"),
        "token": _hidden(preview.text, "token"),
    }
    html = preview.text
    response = customer.session.post(
        customer.base + customer.tenant("subscription/plans/confirm/"),
        data={"csrfmiddlewaretoken": _csrf(html), **form},
        headers={"Referer": customer.base + customer.tenant("subscription/plans/")},
        allow_redirects=False,
        timeout=60,
    )
    assert response.status_code == 302, (response.status_code, response.text[:800])
    return response


def _price_of(html: str, plan: str) -> str:
    """The monthly price's id in the form of the plan named ``plan`` on the plans page."""
    blocks = re.split(r"<form", html)
    for block in blocks:
        if plan.lower() in block.lower():
            found = re.search(r'name="price" value="(\d+)"', block)
            if found:
                return found.group(1)
    raise AssertionError(f"no {plan} plan to choose on the plans page")


def create_api_key(customer: Customer) -> str:
    response = customer.post_form(
        customer.tenant("api-keys/"), {"name": "Host product", "scopes": ["read", "consume"]}
    )
    assert response.status_code == 200, (response.status_code, response.text[:800])
    found = re.search(r'<code class="api-key-value">([^<]+)</code>', response.text)
    assert found is not None, "the new key is not shown"
    customer.api_key = found.group(1).strip()
    return customer.api_key


def consume(
    stack: Stack,
    workspace_id: str,
    api_key: str,
    user: str,
    key: str,
    quantity: int = 1,
    instance: int = 0,
    session: requests.Session | None = None,
) -> requests.Response:
    return (session or requests).post(  # type: ignore[attr-defined]
        f"{stack.web_url(instance)}/api/v1/workspaces/{workspace_id}/credits/consume",
        json={"action": "summarize", "quantity": quantity, "user": user},
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": key},
        timeout=30,
    )


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[tuple[float, int, float]] = field(default_factory=list)  # (moment, status, seconds)
    consumed: dict[str, int] = field(default_factory=dict)

    def add(self, moment: float, status: int, seconds: float, workspace: str) -> None:
        with self.lock:
            self.samples.append((moment, status, seconds))
            if status == 200:
                self.consumed[workspace] = self.consumed.get(workspace, 0) + 1


def client(
    stack: Stack, number: int, workspaces: list[tuple[str, str, str]], count: int, results: Results
) -> None:
    """One API client: ``count`` consumes of 1 credit, workspaces in turn, the two web
    instances in turn, each request with a key of its own."""
    sessions = [requests.Session(), requests.Session()]
    for index in range(count):
        ws, key, email = workspaces[(number * count + index) % len(workspaces)]
        instance = index % 2
        started = time.monotonic()
        try:
            response = sessions[instance].post(
                f"{stack.web_url(instance)}/api/v1/workspaces/{ws}/credits/consume",
                json={"action": "summarize", "quantity": 1, "user": email},
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())},
                timeout=60,
            )
            status = response.status_code
        except requests.RequestException:
            status = 599  # no answer at all: counted with the 5xx
        results.add(started, status, time.monotonic() - started, ws)


def run_clients(
    stack: Stack, workspaces: list[tuple[str, str, str]], clients: int, count: int, results: Results
) -> list[threading.Thread]:
    """Start ``clients`` threads of :func:`client`; returns them (join to wait)."""
    threads = [
        threading.Thread(target=client, args=(stack, n, workspaces, count, results)) for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    return threads
