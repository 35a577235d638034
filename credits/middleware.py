"""Every answer under ``/api/`` is JSON, errors included (docs/security.md#metering-api).

The API's own errors are already ``{"error": {"code", "message"}}``; this turns what
Django answers around it — 405 for a method the endpoint does not take, 500 for a crash,
403 for a refused request, 400 for a bad host — into the same shape, keeping the
status and headers such as ``Allow`` and ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "rate_limited",
    500: "server_error",
}


def _message(status: int) -> str:
    messages = {
        400: _("The request is not valid."),
        401: _("A valid API key is required (Authorization: Bearer <key>)."),
        403: _("This request is not allowed."),
        404: _("This API endpoint does not exist."),
        405: _("This method is not allowed on this endpoint."),
        429: _("Too many requests for this API key: wait before retrying."),
        500: _("The server failed to answer; nothing was changed. Retry later."),
    }
    return str(messages.get(status, _("The request failed.")))


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            code = _CODES.get(status, "server_error" if status >= 500 else "request_failed")
            json = JsonResponse({"error": {"code": code, "message": _message(status)}}, status=status)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    json[header] = response[header]
            return json
        return response
