"""Every page carries the Content-Security-Policy and Permissions-Policy headers, and no page
holds a script the policy would block: no inline <script> without a nonce, no inline event
handler, no hx-on attribute (htmx evaluates those as code) (docs/security.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import URLPattern, reverse

from billing import services as billing_services
from config.urls import tenant_urlpatterns

pytestmark = pytest.mark.django_db


class _InlineCode(HTMLParser):
    """Collects what a policy without 'unsafe-inline' would block."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, _value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=…>")
        data_only = names.get("type") in ("application/json", "application/ld+json")
        if tag == "script" and not names.get("src") and "nonce" not in names and not data_only:
            self.found.append("<script> inline without nonce")
        if tag == "a" and (names.get("href") or "").lower().startswith("javascript:"):
            self.found.append("<a href=javascript:…>")


def inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.found


def _directives(header: str) -> dict[str, list[str]]:
    result = {}
    for part in header.split(";"):
        name, *values = part.split()
        result[name] = values
    return result


def test_the_policy_allows_scripts_only_from_this_site_and_stripe_js(client):
    response = client.get(reverse("account_login"))

    policy = _directives(response["Content-Security-Policy"])
    stripe_js = settings.STRIPE_JS_URL.split("/js.stripe.com")[0].rstrip("/")
    assert policy["script-src"] == ["'self'", stripe_js]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert settings.STRIPE_API_BASE.rstrip("/") in policy["connect-src"]


def test_the_permissions_policy_denies_camera_microphone_and_location(client):
    response = client.get(reverse("account_login"))

    features = dict(item.strip().split("=", 1) for item in response["Permissions-Policy"].split(","))
    assert features["camera"] == "()"
    assert features["microphone"] == "()"
    assert features["geolocation"] == "()"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_the_inline_code_finder_sees_handlers_hx_on_and_inline_scripts():
    html = (
        '<button onclick="go()">x</button><dialog hx-on::load="x()"></dialog>'
        "<script>alert(1)</script><script src='/static/js/app.js'></script>"
        '<script nonce="abc">ok()</script><script type="application/json">{}</script>'
    )

    assert inline_code(html) == [
        "<button onclick=…>",
        "<dialog hx-on::load=…>",
        "<script> inline without nonce",
    ]


def _owner_pages(workspace_id) -> list[str]:
    """Every tenant page that takes no argument but the workspace."""
    urls = []
    for pattern in tenant_urlpatterns:
        if isinstance(pattern, URLPattern) and pattern.name and not pattern.pattern.converters:
            urls.append(reverse(pattern.name, kwargs={"workspace_id": workspace_id}))
    return urls


def test_no_page_of_a_workspace_holds_inline_code(client, workspace, owner):
    billing_services.subscription_start_free(workspace=workspace, now=datetime.now(UTC))
    client.force_login(owner.user)
    pages = _owner_pages(workspace.pk) + [reverse("home"), reverse("account_login")]
    assert len(pages) > 10

    checked = 0
    for url in pages:
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        checked += 1
        assert "Content-Security-Policy" in response, url
        assert inline_code(response.content.decode()) == [], url
    assert checked > 8
