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

from workspaces import permissions, selectors
from workspaces.models import Membership, Workspace
from workspaces.permissions import Capability

View = Callable[..., HttpResponse]


class WorkspaceRequest(HttpRequest):
    workspace: Workspace
    membership: Membership


def workspace_view(capability: Capability) -> Callable[[View], View]:
    """Decorate a view served under ``<uuid:workspace_id>/`` with its capability."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, workspace_id: uuid.UUID, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = selectors.membership_for(user=request.user, workspace_id=workspace_id)  # type: ignore[arg-type]
            if membership is None:
                raise Http404("No such workspace.")
            request.workspace = membership.workspace  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            if request.session.get("current_workspace_id") != str(membership.workspace_id):
                # Written only when it changes: saving the session costs a transaction.
                request.session["current_workspace_id"] = str(membership.workspace_id)
            if not permissions.allows(membership.role, capability):
                return render(
                    request,
                    "403.html",
                    {"message": permissions.REFUSAL_MESSAGES[capability], "workspace": membership.workspace},
                    status=403,
                )
            return view(request, *args, **kwargs)

        wrapped.required_capability = capability  # type: ignore[attr-defined]
        return wrapped

    return decorator
