"""An htmx request from an expired session is sent to the login page as a whole page,
then back to the page the user was on (docs/architecture.md#htmx)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _htmx(current_url: str) -> dict[str, str]:
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": current_url}


def test_a_cost_summary_asked_for_after_the_session_expired_redirects_the_whole_page(client, workspace):
    customize = reverse("subscription_customize", args=[workspace.pk])
    summary = reverse("subscription_customize_summary", args=[workspace.pk])

    response = client.get(summary, {"extra_seats": "2"}, **_htmx(f"http://testserver{customize}"))

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('account_login')}?next={quote(customize, safe='')}"
    assert response.content == b""


def test_a_form_posted_after_the_session_expired_says_where_to_sign_in_again(client, workspace):
    settings_page = reverse("subscription_settings", args=[workspace.pk])

    response = client.post(
        reverse("subscription_cancel", args=[workspace.pk]),
        {"reason": "too_expensive"},
        **_htmx(f"http://testserver{settings_page}"),
    )

    assert response["HX-Redirect"] == f"{reverse('account_login')}?next={quote(settings_page, safe='')}"


def test_a_page_of_another_site_is_never_the_way_back(client, workspace):
    summary = reverse("subscription_customize_summary", args=[workspace.pk])

    response = client.get(summary, **_htmx("https://elsewhere.example/phishing/"))

    assert response["HX-Redirect"] == f"{reverse('account_login')}?next={quote(summary, safe='')}"


def test_a_plain_request_keeps_the_usual_login_redirect(client, workspace):
    customize = reverse("subscription_customize", args=[workspace.pk])

    response = client.get(customize)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={customize}"
    assert "HX-Redirect" not in response


def test_a_signed_in_htmx_request_is_answered_as_usual(client, workspace, owner):
    client.force_login(owner.user)
    summary = reverse("subscription_customize_summary", args=[workspace.pk])

    response = client.get(summary, **_htmx(f"http://testserver{summary}"))

    assert response.status_code == 200
    assert "HX-Redirect" not in response
