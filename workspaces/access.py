"""Resolve the workspace of a ``/<workspace_id>/…`` URL and enforce the policy, once.

Non-members get 404 (a workspace's existence is not revealed); members whose role
lacks the view's capability get the 403 page with the policy's message.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from workspaces import permissions, selectors
from workspaces.errors import DomainError
from workspaces.models import Membership, Workspace
from workspaces.permissions import Capability

View = Callable[..., HttpResponse]


class WorkspaceRequest(HttpRequest):
    workspace: Workspace
    membership: Membership
    #: Set by django-htmx's middleware: truthy for an htmx request ("HX-Request"), with
    #: its target, trigger and whether it restores history. The one htmx detection.
    htmx: HtmxDetails


class CapabilityRefused(Exception):
    """A member whose role lacks the capability: the caller answers with the 403 page."""

    def __init__(self, membership: Membership, capability: Capability) -> None:
        super().__init__(permissions.REFUSAL_MESSAGES[capability])
        self.membership = membership
        self.capability = capability


def resolve_membership(request: HttpRequest, workspace_id: object, capability: Capability) -> Membership:
    """The signed-in user's membership of ``workspace_id`` if its role holds ``capability``.

    Raises :class:`~django.http.Http404` for a non-member or a malformed id (existence is
    never revealed) and :class:`CapabilityRefused` for a member without the capability.
    Every tenant view goes through here, those outside ``/<workspace_id>/`` included.
    """
    try:
        membership = selectors.membership_for(user=request.user, workspace_id=workspace_id)  # type: ignore[arg-type]
    except (ValueError, DomainError) as exc:
        raise Http404("No such workspace.") from exc
    if membership is None:
        raise Http404("No such workspace.")
    if not permissions.allows(membership.role, capability):
        raise CapabilityRefused(membership, capability)
    return membership


def refusal_page(request: HttpRequest, refused: CapabilityRefused) -> HttpResponse:
    return render(
        request,
        "403.html",
        {"message": str(refused), "workspace": refused.membership.workspace},
        status=403,
    )


def safe_return_url(request: HttpRequest, url: str, fallback: str) -> str:
    """``url`` if it stays on this site, else ``fallback`` (no open redirects)."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback


def _remember_workspace(request: HttpRequest, membership: Membership) -> None:
    if request.session.get("current_workspace_id") != str(membership.workspace_id):
        # Written only when it changes: saving the session costs a transaction.
        request.session["current_workspace_id"] = str(membership.workspace_id)


def workspace_view(capability: Capability) -> Callable[[View], View]:
    """Decorate a view served under ``<uuid:workspace_id>/`` with its capability."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, workspace_id: uuid.UUID, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            try:
                membership = resolve_membership(request, workspace_id, capability)
            except CapabilityRefused as refused:
                membership = refused.membership
                _remember_workspace(request, membership)
                return refusal_page(request, refused)
            request.workspace = membership.workspace  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            _remember_workspace(request, membership)
            return view(request, *args, **kwargs)

        wrapped.required_capability = capability  # type: ignore[attr-defined]
        return wrapped

    return decorator
