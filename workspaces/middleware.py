import zoneinfo
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


class UserTimezoneMiddleware:
    """Show datetimes in the signed-in user's time zone (stored in UTC)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = getattr(request.user, "time_zone", None) or settings.DEFAULT_USER_TIME_ZONE
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(settings.DEFAULT_USER_TIME_ZONE))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class HtmxLoginRedirectMiddleware:
    """An htmx request whose session has expired is sent to the login page as a whole
    page, with ``next`` set to the page the user was on (``HX-Current-URL``), instead of
    having the login page swapped into a fragment of it.

    The login redirect (302) would be followed inside the request and its page swapped
    in place; an ``HX-Redirect`` answer makes htmx load the login page instead.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code not in (301, 302):
            return response
        login = resolve_url(settings.LOGIN_URL)
        location = urlsplit(response.get("Location", ""))
        if location.path != login:
            return response
        here = request.htmx.current_url_abs_path  # type: ignore[attr-defined]
        if not here or not url_has_allowed_host_and_scheme(
            here, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            here = request.get_full_path()
        return HttpResponseClientRedirect(f"{login}?{urlencode({REDIRECT_FIELD_NAME: here})}")
