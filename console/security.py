"""The admin's guard (docs/rules/operators.md#admin-security).

- Staff sessions end after ``STAFF_SESSION_IDLE_SECONDS`` without a request, anywhere on
  the site.
- The admin asks for a second factor: a staff user whose session was not opened with
  their TOTP code is sent to set one up (none yet) or to sign in again with it.

Sign-in itself is allauth's (``console.apps`` sends the admin's login page there), so its
login-attempt limits apply to the admin as to the site.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

LAST_SEEN = "staff_last_seen"


def _login_redirect(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}")


def signed_in_with_second_factor(request: HttpRequest) -> bool:
    records = get_authentication_records(request, request.user)  # type: ignore[arg-type]
    return any(record.get("method") == "mfa" for record in records)


class StaffSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_staff:
            return self.get_response(request)
        now = time.time()
        last_seen = request.session.get(LAST_SEEN)
        if last_seen is not None and now - float(last_seen) > settings.STAFF_SESSION_IDLE_SECONDS:
            logout(request)
            messages.info(request, _("Your session ended after a period of inactivity. Sign in again."))
            return _login_redirect(request)
        request.session[LAST_SEEN] = now
        in_admin = request.path.startswith(reverse("admin:index"))
        if in_admin and settings.ADMIN_REQUIRE_MFA and not signed_in_with_second_factor(request):
            if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                setup = reverse("mfa_activate_totp")
                messages.info(
                    request, _("The admin asks for a second factor: set up your authenticator app.")
                )
                return HttpResponseRedirect(f"{setup}?{urlencode({'next': request.get_full_path()})}")
            logout(request)
            messages.info(request, _("Sign in again with your authenticator app's code."))
            return _login_redirect(request)
        return self.get_response(request)
