"""Every workspace URL × every role (and non-members) → the status the policy says."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import translation

from tests.factories import (
    ApiKeyFactory,
    InvitationFactory,
    InvoiceFactory,
    MembershipFactory,
    UserFactory,
)
from workspaces import permissions
from workspaces.models import Invitation, Membership, Role

WORKSPACE_PREFIX = "<uuid:workspace_id>/"


@dataclass(frozen=True)
class TenantRoute:
    name: str
    route: str
    capability: permissions.Capability | None


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def tenant_routes() -> list[TenantRoute]:
    routes = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(WORKSPACE_PREFIX):
            capability = getattr(pattern.callback, "required_capability", None)
            routes.append(TenantRoute(pattern.name or route, route, capability))
    return routes


ROUTES = tenant_routes()
SUBJECTS = [*Role.values, "non_member", "other_workspace_member"]


def test_every_tenant_url_declares_a_capability():
    assert len(ROUTES) >= 7
    unguarded = [r.route for r in ROUTES if r.capability is None]
    assert unguarded == [], f"views without workspace_view(): {unguarded}"


def _sample_kwargs(workspace) -> dict[str, object]:
    """Values for the URL parameters of tenant routes, all inside ``workspace``."""
    invitation = InvitationFactory(workspace=workspace, email="invitee@example.test", role=Role.MEMBER)
    target = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    invoice = _sample_invoice(workspace)
    return {
        "invitation_id": invitation.pk,
        "membership_id": target.pk,
        "invoice_id": invoice.pk,
        "api_key_id": _sample_api_key(workspace).pk,
    }


def _sample_api_key(workspace):
    return ApiKeyFactory(workspace=workspace, name="Matrix key")


def _sample_invoice(workspace):
    from invoices.totals import DraftLine

    return InvoiceFactory(
        workspace=workspace,
        lines=[DraftLine(kind="plan", description="Business, 30 of 30 days × 240,00 €", amount_cents=24_000)],
        billing_reason="manual",
        source="access-matrix",
    )


def _fill(route: str, values: dict[str, object]) -> str:
    import re

    def sub(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in values:
            raise AssertionError(f"add a sample value for URL parameter {name!r} in this test")
        return str(values[name])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", sub, route)


def _client_for(client, subject, workspace, other_workspace):
    if subject == "non_member":
        user = UserFactory()
    elif subject == "other_workspace_member":
        user = Membership.objects.filter(workspace=other_workspace).first().user
    elif subject == Role.OWNER:
        user = Membership.objects.get(workspace=workspace, role=Role.OWNER).user
    else:
        user = MembershipFactory(workspace=workspace, role=subject).user
    client.force_login(user)
    return client


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_policy_matrix(client, workspace, other_workspace, route, subject, method):
    values = {"workspace_id": workspace.pk, **_sample_kwargs(workspace)}
    url = _fill(route.route, values)
    client = _client_for(client, subject, workspace, other_workspace)

    response = getattr(client, method)(url)

    if subject in ("non_member", "other_workspace_member"):
        assert response.status_code == 404
    elif not permissions.allows(subject, route.capability):
        assert response.status_code == 403
        with translation.override("fr"):
            # The page's text, as read: entities (an apostrophe is &#x27; in HTML) decoded.
            assert str(permissions.REFUSAL_MESSAGES[route.capability]) in html.unescape(
                response.content.decode()
            )
    elif method == "get":
        assert response.status_code in (200, 405)
    else:
        assert response.status_code not in (403, 404)


def test_anonymous_is_sent_to_login(client, workspace):
    for route in ROUTES:
        url = _fill(route.route, {"workspace_id": workspace.pk, **_sample_kwargs(workspace)})
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        Invitation.objects.all().delete()


def test_unknown_workspace_id_is_404(client, owner):
    client.force_login(owner.user)
    response = client.get(f"/{uuid.uuid4()}/workspace/")
    assert response.status_code == 404


def test_malformed_workspace_id_is_404_with_a_clear_message(client, owner):
    client.force_login(owner.user)
    response = client.get("/not-a-uuid/workspace/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
