"""The API docs render for a signed-in operator under the Content-Security-Policy, from
this site's own Swagger UI files (docs/security.md#metering-api)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_read_the_api_docs_rendered_from_local_files(page, live_server):
    client = Client()
    client.force_login(UserFactory(email="ops@example.test", is_staff=True))
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto("/api/v1/docs")
    page.get_by_text("/api/v1/workspaces/{workspace_id}/credits/consume", exact=True).wait_for()

    assert "SeatCredit metering API" in page.locator(".swagger-ui .title").inner_text()
    assert all(url.startswith(live_server.url) for url in requests), requests
