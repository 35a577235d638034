"""Who is acting, for the entries a request writes: the client's IP address and, inside an
operator's action, the operator and their reason.

The middleware sets the address for each request; :func:`operator_acting` wraps an
operator's call into a customer's service, so the entries that service writes name the
operator (not the member on whose behalf they act) and carry the operator's reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

from workspaces.models import User


@dataclass(frozen=True)
class Operator:
    user: User
    reason: str


_ip_address: ContextVar[str | None] = ContextVar("audit_ip_address", default=None)
_operator: ContextVar[Operator | None] = ContextVar("audit_operator", default=None)


def ip_address() -> str | None:
    return _ip_address.get()


def operator() -> Operator | None:
    return _operator.get()


@contextmanager
def operator_acting(user: User, reason: str) -> Iterator[None]:
    token = _operator.set(Operator(user=user, reason=reason))
    try:
        yield
    finally:
        _operator.reset(token)


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from (REMOTE_ADDR: the proxy in front of the app is
    configured to set it, never a header the client could forge)."""
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    """Records the request's client address for the audit entries it writes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _ip_address.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _ip_address.reset(token)
